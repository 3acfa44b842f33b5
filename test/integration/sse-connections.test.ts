import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, type WsHandle } from '../helpers/clients.js';
import { within } from '../helpers/connections.js';
import { SseStream } from '../helpers/sse.js';
import { registerUser } from '../helpers/users.js';

const HEALTH = 'subscription { health(intervalSeconds: 60) { status } }';

// One door's rules at every door: an SSE stream is a connection of its user (issue #16).
describe.runIf(backendAvailable())('SSE streams as connections', () => {
  let app: TestApp;
  const streams: SseStream[] = [];
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    app = await startTestApp({ WS_MAX_CONNECTIONS_PER_USER: '2', JWT_ACCESS_TTL: '3s' });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  function sse(token: string | null): SseStream {
    const stream = new SseStream(app, HEALTH, {}, token);
    streams.push(stream);
    return stream;
  }

  it('counts SSE streams against the per-user cap shared with WebSockets, and frees the slot when one ends', async () => {
    const user = await registerUser(app, 'sse_cap');
    const [one, two] = [sse(user.token), sse(user.token)];
    await Promise.all([one.waitFor((e) => e.data?.health), two.waitFor((e) => e.data?.health)]);
    const third = sse(user.token);
    const refused = await third.waitFor((e) => Boolean(e.errors));
    expect(refused.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'connectionsPerUser' });
    const ws = connectWs(app, bearer(user.token));
    sockets.push(ws);
    expect((await within(ws.closed, 5000, 'the 4008 close')).code).toBe(4008);
    one.close();
    // The slot frees when the server sees the stream end.
    const deadline = Date.now() + 5000;
    let admitted = false;
    while (!admitted && Date.now() < deadline) {
      const retry = sse(user.token);
      const first = await retry.waitFor(() => true);
      admitted = Boolean(first.data?.health);
      if (!admitted) await new Promise((r) => setTimeout(r, 100));
    }
    expect(admitted).toBe(true);
  });

  it('ends an SSE stream with UNAUTHENTICATED when its session logs out, and when its token expires', async () => {
    const user = await registerUser(app, 'sse_revoked');
    const revoked = sse(user.token);
    await revoked.waitFor((e) => e.data?.health);
    await gqlOk(app, 'mutation($t: String!) { logout(refreshToken: $t) }', { t: user.refreshToken });
    const last = await revoked.waitFor((e) => Boolean(e.errors));
    expect(last.errors[0]).toMatchObject({ message: 'Session revoked', extensions: { code: 'UNAUTHENTICATED' } });
    await within(revoked.ended, 5000, 'the end of the stream');

    const other = await registerUser(app, 'sse_expiry');
    const expiring = sse(other.token);
    await expiring.waitFor((e) => e.data?.health);
    const expired = await expiring.waitFor((e) => Boolean(e.errors), 8000);
    expect(expired.errors[0]).toMatchObject({ message: 'Access token expired', extensions: { code: 'UNAUTHENTICATED' } });
    await within(expiring.ended, 5000, 'the end of the stream');
  });
});
