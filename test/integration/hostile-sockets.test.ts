import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { gqlOk } from '../helpers/clients.js';
import { RawSocket } from '../helpers/raw-ws.js';
import { eventually, within } from '../helpers/connections.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams } from '../helpers/streams.js';

const POST_UPDATED = 'subscription($postId: ID!) { postUpdated(postId: $postId) { change post { title } } }';
const UPDATE = 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }';

/** The value of one Prometheus series (labels matched as given), 0 when absent. */
async function metric(app: TestApp, name: string, labels: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', app.httpUrl))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

// Holes a hostile client found (issue #16, defects 1, 2 and 4); each test failed before the fix.
describe.runIf(backendAvailable())('hostile WebSocket clients', () => {
  let app: TestApp;
  let author: TestUser;
  const raws: RawSocket[] = [];

  beforeAll(async () => {
    app = await startTestApp({ WS_JWT_AUTH_REQUIRED: 'true', WS_MAX_CONNECTIONS_PER_USER: '2' });
    author = await registerUser(app, 'hostile');
  });

  afterAll(async () => {
    for (const raw of raws) raw.terminate();
    await app?.stop();
  });

  function raw(): RawSocket {
    const socket = new RawSocket(app.wsUrl);
    raws.push(socket);
    return socket;
  }

  it('runs one subscription per id: subscribe/complete twenty times, then subscribe, leaves one stream and one delivery', async () => {
    const postId = await createPost(app, author);
    const socket = raw();
    await socket.init({ authorization: `Bearer ${author.token}` });
    for (let i = 0; i < 20; i++) {
      socket.send({ id: 'X', type: 'subscribe', payload: { query: POST_UPDATED, variables: { postId } } });
      socket.send({ id: 'X', type: 'complete' });
    }
    socket.send({ id: 'X', type: 'subscribe', payload: { query: POST_UPDATED, variables: { postId } } });
    await waitForStreams(app, 'postUpdated', 1);
    await eventually(async () => (await metric(app, 'herald_ws_subscriptions_active', 'field="postUpdated"')) === 1, 'one counted subscription');
    await gqlOk(app, UPDATE, { id: postId, input: { title: 'Once' } }, author.token);
    await socket.waitFor((f) => f.type === 'next' && f.id === 'X');
    // Another event after it: if a completed one still ran, its frames would have come by now.
    await gqlOk(app, UPDATE, { id: postId, input: { title: 'Twice' } }, author.token);
    await socket.waitFor((f) => f.type === 'next' && JSON.stringify(f).includes('Twice'));
    expect(socket.frames.filter((f) => f.type === 'next')).toHaveLength(2);
    expect(socket.frames.some((f) => f.type === 'complete')).toBe(false);
    expect(app.app.runtime.pubsub.openStreams('postUpdated')).toBe(1);

    socket.ws.close(1000);
    await socket.closed;
    await eventually(() => app.app.runtime.pubsub.openStreams('postUpdated') === 0, 'no stream left after close');
    await eventually(async () => (await metric(app, 'herald_ws_subscriptions_active', 'field="postUpdated"')) === 0, 'the gauge back to 0');
  });

  it('leaves no health timer behind for an anonymous socket that re-used an id and closed', async () => {
    const socket = raw();
    await socket.init();
    const HEALTH = 'subscription { health(intervalSeconds: 1) { status } }';
    for (let i = 0; i < 20; i++) {
      socket.send({ id: 'H', type: 'subscribe', payload: { query: HEALTH } });
      socket.send({ id: 'H', type: 'complete' });
    }
    socket.send({ id: 'H', type: 'subscribe', payload: { query: HEALTH } });
    await socket.waitFor((f) => f.type === 'next' && f.id === 'H');
    await eventually(async () => (await metric(app, 'herald_ws_subscriptions_active', 'field="health"')) === 1, 'one counted health subscription');
    socket.ws.close(1000);
    await socket.closed;
    await eventually(async () => (await metric(app, 'herald_ws_subscriptions_active', 'field="health"')) === 0, 'the gauge back to 0');
    const reports = vi.spyOn(app.app.runtime.services.health, 'report');
    try {
      // A leaked subscription would run its 1 s timer (and a SELECT 1) forever.
      await new Promise((r) => setTimeout(r, 2500));
      expect(reports).not.toHaveBeenCalled();
    } finally {
      reports.mockRestore();
    }
  });

  it('checks every root field of an anonymous operation against WS_JWT_AUTH_REQUIRED, fragments included', async () => {
    const socket = raw();
    await socket.init();
    const refused = [
      '{ health { status } posts(first: 1) { edges { node { id } } } }',
      'mutation { __typename trackPageView(path: "/sneaky") }',
      'query { health { status } ...Everything } fragment Everything on Query { me { id } }',
      'query { ... on Query { posts(first: 1) { edges { node { id } } } } }',
    ];
    for (const [i, query] of refused.entries()) socket.send({ id: `q${i}`, type: 'subscribe', payload: { query } });
    for (let i = 0; i < refused.length; i++) {
      const frame = await socket.waitFor((f) => f.id === `q${i}` && (f.type === 'error' || f.type === 'next'));
      expect(frame.type, refused[i]).toBe('error');
      expect(JSON.stringify(frame.payload), refused[i]).toContain('UNAUTHENTICATED');
    }
    socket.send({ id: 'ok', type: 'subscribe', payload: { query: '{ health { status } __typename }' } });
    const allowed = await socket.waitFor((f) => f.id === 'ok' && f.type === 'next');
    expect(allowed.payload).toMatchObject({ data: { health: { status: 'OK' }, __typename: 'Query' } });
  });

  describe('a token sent with one operation (extensions.headers, as GraphiQL does)', () => {
    const subscribeWithToken = (socket: RawSocket, id: string, token: string, postId: string) =>
      socket.send({ id, type: 'subscribe', payload: { query: POST_UPDATED, variables: { postId }, extensions: { headers: { Authorization: `Bearer ${token}` } } } });

    it('makes the anonymous socket that user’s: logout of that session closes it with 4403', async () => {
      const user = await registerUser(app, 'giql_logout');
      const postId = await createPost(app, user, { publish: false });
      const socket = raw();
      await socket.init();
      subscribeWithToken(socket, 's1', user.token, postId);
      await waitForStreams(app, 'postUpdated', 1);
      await gqlOk(app, 'mutation($t: String!) { logout(refreshToken: $t) }', { t: user.refreshToken });
      expect((await within(socket.closed, 5000, 'the 4403 close')).code).toBe(4403);
    });

    it('closes the socket with 4403 when that token expires', async () => {
      const shortLived = await startTestApp({ JWT_ACCESS_TTL: '2s' });
      try {
        const user = await registerUser(shortLived, 'giql_expiry');
        const postId = await createPost(shortLived, user);
        const socket = new RawSocket(shortLived.wsUrl);
        raws.push(socket);
        await socket.init();
        subscribeWithToken(socket, 's1', user.token, postId);
        await waitForStreams(shortLived, 'postUpdated', 1);
        const closed = await within(socket.closed, 6000, 'the expiry close');
        expect(closed.code).toBe(4403);
        expect(closed.reason).toMatch(/expired/i);
      } finally {
        await shortLived.stop();
      }
    });

    it("counts against the user's connection cap (WS_MAX_CONNECTIONS_PER_USER=2 here)", async () => {
      const user = await registerUser(app, 'giql_cap');
      const postId = await createPost(app, user);
      const sockets = [raw(), raw(), raw()];
      for (const socket of sockets) await socket.init();
      subscribeWithToken(sockets[0]!, 'a', user.token, postId);
      subscribeWithToken(sockets[1]!, 'b', user.token, postId);
      await waitForStreams(app, 'postUpdated', 2);
      subscribeWithToken(sockets[2]!, 'c', user.token, postId);
      expect((await within(sockets[2]!.closed, 5000, 'the 4008 close')).code).toBe(4008);
      // The user's own socket with the token in connectionParams is refused as well: the cap is full.
      const own = raw();
      await own.opened;
      own.send({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } });
      expect((await within(own.closed, 5000, 'the 4008 close')).code).toBe(4008);
    });

    it('refuses an operation with another user’s token on a socket that belongs to someone (FORBIDDEN)', async () => {
      const owner = await registerUser(app, 'giql_owner');
      const intruder = await registerUser(app, 'giql_intruder');
      const postId = await createPost(app, owner);
      const socket = raw();
      await socket.init();
      subscribeWithToken(socket, 'own', owner.token, postId);
      await waitForStreams(app, 'postUpdated', 1);
      subscribeWithToken(socket, 'other', intruder.token, postId);
      const refused = await socket.waitFor((f) => f.id === 'other' && f.type === 'error');
      expect(JSON.stringify(refused.payload)).toContain('FORBIDDEN');
    });
  });
});
