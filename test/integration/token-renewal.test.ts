import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { gql, gqlOk } from '../helpers/clients.js';
import { RawSocket } from '../helpers/raw-ws.js';
import { within } from '../helpers/connections.js';
import { registerUser, type TestUser } from '../helpers/users.js';

const RENEW = 'mutation($t: String!) { renewConnectionToken(accessToken: $t) }';
const REFRESH = 'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken accessTokenExpiresAt } }';

// Renewing the token on an open socket (issue #12): token expiry stops forcing reconnects.
describe.runIf(backendAvailable())('renewConnectionToken', () => {
  let app: TestApp;
  let user: TestUser;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    app = await startTestApp({ JWT_ACCESS_TTL: '4s' });
    user = await registerUser(app, 'renewer');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await app?.stop();
  });

  async function socketOf(token: string): Promise<RawSocket> {
    const socket = new RawSocket(app.wsUrl);
    sockets.push(socket);
    await socket.init({ authorization: `Bearer ${token}` });
    return socket;
  }

  /** Runs `query` over the socket as operation `id`; resolves with its next or error frame's payload. */
  async function run(socket: RawSocket, id: string, query: string, variables: Record<string, unknown>) {
    socket.send({ id, type: 'subscribe', payload: { query, variables } });
    return socket.waitFor((f) => f.id === id && (f.type === 'next' || f.type === 'error'));
  }

  it('keeps a socket open past its first token’s exp when it renews at 80% of the lifetime', async () => {
    const first = (await gqlOk<{ refreshToken: { accessToken: string; refreshToken: string; accessTokenExpiresAt: string } }>(app, REFRESH, { t: user.refreshToken })).refreshToken;
    let session = first;
    const socket = await socketOf(session.accessToken);
    let expiry = Date.parse(session.accessTokenExpiresAt);
    for (let round = 0; round < 2; round++) {
      // At 80% of what is left of the current token's lifetime (exp has whole seconds).
      await new Promise((r) => setTimeout(r, Math.max(0, (expiry - Date.now()) * 0.8)));
      session = (await gqlOk<{ refreshToken: typeof session }>(app, REFRESH, { t: session.refreshToken })).refreshToken;
      const renewed = await run(socket, `renew-${round}`, RENEW, { t: session.accessToken });
      expect(renewed.type).toBe('next');
      expiry = Date.parse((renewed.payload as { data: { renewConnectionToken: string } }).data.renewConnectionToken);
      expect(expiry).toBe(Date.parse(session.accessTokenExpiresAt));
    }
    // The socket has outlived its first token, and still answers.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(first.accessTokenExpiresAt) + 600 - Date.now())));
    const alive = await run(socket, 'alive', '{ me { id } }', {});
    expect(alive.payload).toMatchObject({ data: { me: { id: user.id } } });
  }, 30_000);

  it('refuses another user’s token (FORBIDDEN) and the socket still closes at its own token’s exp', async () => {
    const owner = await registerUser(app, 'renew_owner');
    const other = await registerUser(app, 'renew_other');
    const socket = await socketOf(owner.token);
    const refused = await run(socket, 'steal', RENEW, { t: other.token });
    expect(refused.payload).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const bad = await run(socket, 'bad', RENEW, { t: 'not-a-token' });
    expect(JSON.stringify(bad.payload)).toContain('UNAUTHENTICATED');
    const closed = await within(socket.closed, 6000, 'the expiry close');
    expect(closed.code).toBe(4403);
  });

  it('answers BAD_USER_INPUT over HTTP: there is no connection to renew', async () => {
    const fresh = await registerUser(app, 'renew_http');
    const result = await gql(app, RENEW, { t: fresh.token }, fresh.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
