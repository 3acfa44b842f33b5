import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../helpers/backends.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';
import type { TopicEvent } from '../../src/realtime/topics.js';
import { topics } from '../../src/realtime/topics.js';

const NUL = '\u0000';
const REGISTER = 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }';
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';
const CREATE = 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }';
const UPDATE = 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }';
const REFRESH = 'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }';
const SET_ROLE = 'mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { role } }';
const STAFF_ONLY = '{ connectionStats { totalConnections } }';

/** POSTs a subscription with `Accept: text/event-stream` and returns the whole (short) stream as text. */
async function sse(app: TestApp, query: string, variables: Record<string, unknown>, token: string): Promise<string> {
  const response = await fetch(app.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(5000),
  });
  return response.text();
}

describe.runIf(backendAvailable())('hostile input and what the endpoint reveals, on every transport', () => {
  let shared: TestBackend;
  let app: TestApp;
  let author: TestUser;
  let postId: string;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    shared = await createTestBackend();
    app = await startTestApp({ GRAPHQL_INTROSPECTION: 'false', GRAPHQL_FIELD_SUGGESTIONS: 'false' }, shared);
    author = await registerUser(app, 'author');
    postId = await createPost(app, author);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
    await shared?.dispose();
  });

  const refusedNul = (result: { errors?: { message: string; extensions?: Record<string, unknown> }[] }, field: string) => {
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(result.errors?.[0]?.message).toBe(`${field} must not contain NUL characters`);
    expect(JSON.stringify(result)).not.toMatch(/detail|prisma|\.ts:\d/i);
  };

  it('refuses NUL in register, login, createPost and updatePost with BAD_USER_INPUT naming the field, over HTTP', async () => {
    const input = { email: 'nul@example.test', password: 'correct horse battery', username: 'nul_user', displayName: 'Nul' };
    refusedNul(await gql(app, REGISTER, { input: { ...input, email: `nul${NUL}@example.test` } }), 'email');
    refusedNul(await gql(app, REGISTER, { input: { ...input, displayName: `Nu${NUL}l` } }), 'displayName');
    refusedNul(await gql(app, LOGIN, { e: `${author.email}${NUL}`, p: author.password }), 'email');
    refusedNul(await gql(app, CREATE, { input: { title: `t${NUL}`, content: 'c' } }, author.token), 'title');
    refusedNul(await gql(app, UPDATE, { id: postId, input: { title: `t${NUL}` } }, author.token), 'title');
    refusedNul(await gql(app, `mutation { createPost(input: { title: "inline\\u0000", content: "c" }) { id } }`, {}, author.token), 'title');
    refusedNul(await gql(app, '{ post(id: "\\u0000") { id } }'), 'id');
    // Nothing was written, and the server still answers.
    expect((await gqlOk<{ post: { title: string } }>(app, 'query($id: ID!) { post(id: $id) { title } }', { id: postId })).post.title).toBe('A post');
  });

  it('refuses NUL over WebSocket (mutation and subscription) and SSE the same way', async () => {
    const ws = connectWs(app, bearer(author.token));
    sockets.push(ws);
    const mutation = new Subscription(ws.client, UPDATE, { id: postId, input: { content: `c${NUL}` } });
    expect(await mutation.failure()).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'content' } })]);
    const live = new Subscription(ws.client, 'subscription($p: ID!) { postUpdated(postId: $p) { change } }', { p: `${postId}${NUL}` });
    expect(await live.failure()).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'postId' } })]);
    const stream = await sse(app, 'subscription($p: ID!) { postStats(postId: $p) { viewCount } }', { p: NUL }, author.token);
    expect(stream).toContain('"code":"BAD_USER_INPUT"');
    expect(stream).toContain('"field":"postId"');
  });

  it('refuses introspection with FORBIDDEN over HTTP, WebSocket and SSE when GRAPHQL_INTROSPECTION=false, and hides suggestions', async () => {
    const http = await gql(app, '{ __schema { types { name } } }');
    expect(http.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ws = connectWs(app, bearer(author.token));
    sockets.push(ws);
    const overWs = new Subscription(ws.client, '{ __type(name: "User") { fields { name } } }');
    expect(JSON.stringify(await overWs.failure())).toContain('FORBIDDEN');
    const overSse = await sse(app, '{ __schema { queryType { name } } }', {}, author.token);
    expect(overSse).toContain('"code":"FORBIDDEN"');
    expect(overSse).not.toContain('"queryType"');
    const guessed = new Subscription(ws.client, 'subscription($p: ID!) { postUpdatd(postId: $p) { change } }', { p: postId });
    const failure = JSON.stringify(await guessed.failure());
    expect(failure).toContain('postUpdatd');
    expect(failure).not.toMatch(/Did you mean|"postUpdated"/);
  });

  it('refuses a demoted staff member’s old token at once (UNAUTHENTICATED); refresh gives a token with the new role', async () => {
    const boss = await registerStaff(app);
    const staff = await registerStaff(app);
    expect((await gql(app, STAFF_ONLY, {}, staff.token)).errors).toBeUndefined();
    const heard = new Promise<TopicEvent<'userAccessRevoked'>>((resolve) => {
      void app.app.runtime.pubsub.listen(topics.userAccessRevoked(), (event) => {
        if (event.userId === staff.id) resolve(event);
      });
    });
    expect((await gqlOk(app, SET_ROLE, { id: staff.id, role: 'READER' }, boss.token)).setUserRole.role).toBe('READER');

    const old = await gql(app, STAFF_ONLY, {}, staff.token);
    expect(old.status).toBe(401);
    expect(old.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await heard).toMatchObject({ userId: staff.id, reason: 'ROLE_CHANGED', revokedBefore: expect.any(Number) });

    const refreshed = (await gqlOk<{ refreshToken: { accessToken: string } }>(app, REFRESH, { t: staff.refreshToken })).refreshToken;
    expect((await gqlOk<{ me: { role: string } }>(app, '{ me { role } }', {}, refreshed.accessToken)).me.role).toBe('READER');
    expect((await gql(app, STAFF_ONLY, {}, refreshed.accessToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Setting the role a user already has revokes nothing.
    await gqlOk(app, SET_ROLE, { id: staff.id, role: 'READER' }, boss.token);
    expect((await gqlOk<{ me: { role: string } }>(app, '{ me { role } }', {}, refreshed.accessToken)).me.role).toBe('READER');
  });

  it('closes a demoted staff member’s live dashboard with 4403 at once, and keeps a socket opened with a token issued after the change', async () => {
    const boss = await registerStaff(app);
    const staff = await registerStaff(app);
    const ws = connectWs(app, bearer(staff.token));
    sockets.push(ws);
    const dashboard = new Subscription(ws.client, 'subscription { analyticsDashboard { activeConnections } }');
    await dashboard.next();
    await gqlOk(app, SET_ROLE, { id: staff.id, role: 'READER' }, boss.token);
    const closed = await Promise.race([ws.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    expect(closed?.code).toBe(4403);
    // Reconnected with a refreshed token (issued after the change), the socket stays: as a reader now.
    const refreshed = (await gqlOk<{ refreshToken: { accessToken: string } }>(app, REFRESH, { t: staff.refreshToken })).refreshToken;
    const again = connectWs(app, bearer(refreshed.accessToken));
    sockets.push(again);
    const refused = new Subscription(again.client, 'subscription { analyticsDashboard { activeConnections } }');
    expect(JSON.stringify(await refused.failure())).toContain('FORBIDDEN');
  });

  it.runIf(backend === 'services')('makes another instance refuse the old token at once too (through Redis)', async () => {
    const other = await startTestApp({}, shared);
    try {
      const boss = await registerStaff(app);
      const staff = await registerStaff(app);
      // The other instance has just accepted the token, so it holds a fresh "not revoked" answer.
      expect((await gql(other, STAFF_ONLY, {}, staff.token)).errors).toBeUndefined();
      await gqlOk(app, SET_ROLE, { id: staff.id, role: 'AUTHOR' }, boss.token);
      const deadline = Date.now() + 2000;
      let code: unknown;
      // Redis delivers the event to the other instance within milliseconds; well inside its 5 s cache.
      while (Date.now() < deadline && code !== 'UNAUTHENTICATED') {
        code = (await gql(other, STAFF_ONLY, {}, staff.token)).errors?.[0]?.extensions?.code;
        if (code !== 'UNAUTHENTICATED') await new Promise((r) => setTimeout(r, 20));
      }
      expect(code).toBe('UNAUTHENTICATED');
    } finally {
      await other.stop();
    }
  });
});
