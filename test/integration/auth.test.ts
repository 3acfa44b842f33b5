import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { backendAvailable, startTestApp, type TestApp, TEST_JWT_SECRET } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription } from '../helpers/clients.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';

const ME = '{ me { id username email role } }';
const REFRESH = 'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken user { id } } }';
const LOGOUT = 'mutation($t: String!) { logout(refreshToken: $t) }';
const SECRET = TEST_JWT_SECRET;

function forge(payload: Record<string, unknown>, secret = SECRET, algorithm: jwt.Algorithm = 'HS256'): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign({ sub: 'nobody', role: 'STAFF', sid: 'forged', typ: 'access', iat: now, exp: now + 600, ...payload }, secret, {
    algorithm,
    issuer: 'herald',
    audience: 'herald-api',
  });
}

describe.runIf(backendAvailable())('auth', () => {
  let app: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    alice = await registerUser(app, 'alice');
  });
  afterAll(async () => app?.stop());

  describe('register and login', () => {
    it('registers a reader whose token answers `me`, email visible to themself', async () => {
      const data = await gqlOk(app, ME, {}, alice.token);
      expect(data.me).toMatchObject({ id: alice.id, username: alice.username, email: alice.email, role: 'READER' });
    });

    it('refuses a taken email or username with CONFLICT and bad fields with BAD_USER_INPUT', async () => {
      const register = 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }';
      const taken = await gql(app, register, { input: { email: alice.email.toUpperCase(), password: 'long enough pw', username: 'someone_new' } });
      expect(taken.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      const takenName = await gql(app, register, { input: { email: 'new@example.test', password: 'long enough pw', username: alice.username } });
      expect(takenName.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'username' });
      const badEmail = await gql(app, register, { input: { email: 'nope', password: 'long enough pw', username: 'valid_name' } });
      expect(badEmail.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
      const shortPassword = await gql(app, register, { input: { email: 'x@example.test', password: 'short', username: 'valid_name2' } });
      expect(shortPassword.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    });

    it('logs in with the right password only', async () => {
      const login = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken user { id } } }';
      const ok = await gqlOk(app, login, { e: alice.email, p: alice.password });
      expect(ok.login.user.id).toBe(alice.id);
      const wrong = await gql(app, login, { e: alice.email, p: 'wrong password' });
      expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const unknown = await gql(app, login, { e: 'nobody@example.test', p: 'whatever1' });
      expect(unknown.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
    });
  });

  describe('refresh rotation', () => {
    it('rotates: each refresh token works once, and reuse revokes the whole session', async () => {
      const user = await registerUser(app, 'rotator');
      const first = await gqlOk(app, REFRESH, { t: user.refreshToken });
      expect(first.refreshToken.refreshToken).not.toBe(user.refreshToken);
      // The new access token works.
      expect((await gqlOk(app, ME, {}, first.refreshToken.accessToken)).me.id).toBe(user.id);

      const reuse = await gql(app, REFRESH, { t: user.refreshToken });
      expect(reuse.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(reuse.errors?.[0]?.message).toMatch(/reuse/i);
      // The family is revoked: the rotated refresh token and the session's access tokens stop working.
      const afterReuse = await gql(app, REFRESH, { t: first.refreshToken.refreshToken });
      expect(afterReuse.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const me = await gql(app, ME, {}, first.refreshToken.accessToken);
      expect(me.status).toBe(401);
      expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('refuses an unknown refresh token', async () => {
      const result = await gql(app, REFRESH, { t: 'not-a-real-token' });
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('logout revokes the refresh token and its access token', async () => {
      const user = await registerUser(app, 'leaver');
      expect((await gqlOk(app, LOGOUT, { t: user.refreshToken })).logout).toBe(true);
      expect((await gql(app, REFRESH, { t: user.refreshToken })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await gql(app, ME, {}, user.token)).status).toBe(401);
      expect((await gqlOk(app, LOGOUT, { t: 'unknown' })).logout).toBe(false);
    });
  });

  describe('access tokens over HTTP', () => {
    it.each([
      ['alg none', () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', role: 'STAFF', sid: 's', typ: 'access', iss: 'herald', aud: 'herald-api', exp: 9999999999 })).toString('base64url')}.`],
      ['another secret', () => forge({ sub: 'x' }, 'another-secret-that-is-long-enough')],
      ['HS512', () => forge({ sub: 'x' }, SECRET, 'HS512')],
      ['expired', () => forge({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 10, iat: Math.floor(Date.now() / 1000) - 100 })],
      ['garbage', () => 'garbage'],
    ])('rejects a token with %s: 401 UNAUTHENTICATED', async (_name, make) => {
      const result = await gql(app, ME, {}, make());
      expect(result.status).toBe(401);
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('tells "not logged in" (UNAUTHENTICATED) from "not allowed" (FORBIDDEN)', async () => {
      const create = 'mutation { createPost(input: { title: "t", content: "c" }) { id } }';
      expect((await gql(app, create)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const setRole = 'mutation($id: ID!) { setUserRole(userId: $id, role: STAFF) { role } }';
      expect((await gql(app, setRole, { id: alice.id })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await gql(app, setRole, { id: alice.id }, alice.token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const staff = await registerStaff(app);
      const other = await registerUser(app, 'promoted');
      expect((await gqlOk(app, setRole, { id: other.id }, staff.token)).setUserRole.role).toBe('STAFF');
    });

    it("refuses to edit someone else's post (FORBIDDEN) and answers a missing one with NOT_FOUND for staff", async () => {
      const bob = await registerUser(app, 'bob');
      const postId = await createPost(app, alice);
      const update = 'mutation($id: ID!) { updatePost(id: $id, input: { title: "hijack" }) { id } }';
      expect((await gql(app, update, { id: postId }, bob.token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const staff = await registerStaff(app);
      expect((await gql(app, update, { id: '00000000-0000-4000-8000-000000000000' }, staff.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });
  });

  describe('WebSocket authentication', () => {
    const HEALTH = 'subscription { health(intervalSeconds: 1) { status } }';

    it('closes with 4403 on a bad or expired token', async () => {
      for (const token of ['garbage', forge({ sub: 'x' }, 'another-secret-that-is-long-enough'), forge({ sub: 'x', exp: 1, iat: 0 })]) {
        const ws = connectWs(app, bearer(token));
        expect((await ws.closed).code).toBe(4403);
      }
    });

    it('accepts the token as connectionParams.authorization, connectionParams.token and ?token=', async () => {
      const query = '{ me { id } }';
      for (const ws of [
        connectWs(app, bearer(alice.token)),
        connectWs(app, { token: alice.token }),
        connectWs(app, {}, `${app.wsUrl}?token=${encodeURIComponent(alice.token)}`),
      ]) {
        const sub = new Subscription(ws.client, query);
        const result = await sub.next();
        expect(result.data).toEqual({ me: { id: alice.id } });
        await ws.dispose();
      }
    });

    it('lets anonymous sockets use health only (WS_JWT_AUTH_REQUIRED=true)', async () => {
      const ws = connectWs(app);
      const health = new Subscription(ws.client, HEALTH);
      expect((await health.next()).data).toEqual({ health: { status: 'OK' } });
      const me = new Subscription(ws.client, '{ me { id } }');
      expect(JSON.stringify(await me.failure())).toContain('UNAUTHENTICATED');
      await ws.dispose();
    });

    it('closes a live socket with 4403 when its session logs out', async () => {
      const user = await registerUser(app, 'socketlogout');
      const ws = connectWs(app, bearer(user.token));
      const health = new Subscription(ws.client, HEALTH);
      await health.next();
      await gqlOk(app, LOGOUT, { t: user.refreshToken });
      expect((await ws.closed).code).toBe(4403);
    });
  });

  it('closes a socket with 4403 when its access token expires', async () => {
    const shortLived = await startTestApp({ JWT_ACCESS_TTL: '2s' });
    try {
      const user = await registerUser(shortLived, 'expiring');
      const ws = connectWs(shortLived, bearer(user.token));
      const health = new Subscription(ws.client, 'subscription { health(intervalSeconds: 1) { status } }');
      await health.next();
      const closed = await Promise.race([ws.closed, new Promise<null>((r) => setTimeout(() => r(null), 6000))]);
      expect(closed?.code).toBe(4403);
      expect(closed?.reason).toMatch(/expired/i);
    } finally {
      await shortLived.stop();
    }
  });
});
