import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { gql } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { RATE_LIMIT_RULES, type RateLimitedAction } from '../../src/modules/limits/rate-limits.js';

type Result = { errors?: { extensions?: { code?: string; retryAfterMs?: unknown } }[] };

// Runs on both projects: rate-limiter-flexible in memory (embedded) and on Redis (services).
describe.runIf(backendAvailable())('rate limits', () => {
  let app: TestApp;
  let user: TestUser;
  let postId: string;
  let nextAddress = 1;
  // Each case calls from its own address (the app trusts the loopback proxy), so one case's spending
  // does not count against another's.
  const fromAddress = () => ({ 'x-forwarded-for': `203.0.113.${nextAddress++}` });

  beforeAll(async () => {
    app = await startTestApp({ TRUSTED_PROXIES: '127.0.0.1' });
    user = await registerUser(app, 'limited');
    postId = await createPost(app, user);
  });
  afterAll(async () => {
    await app?.stop();
  });

  const LOGIN = 'mutation($e: String!) { login(email: $e, password: "wrong password here") { accessToken } }';
  let unknownEmails = 0;
  const calls: Record<RateLimitedAction, (headers: Record<string, string>) => Promise<Result>> = {
    login: (headers) => gql(app, LOGIN, { e: user.email }, undefined, headers),
    loginAddress: (headers) => gql(app, LOGIN, { e: `nobody-${unknownEmails++}@example.test` }, undefined, headers),
    setTyping: (headers) => gql(app, 'mutation($p: ID!) { setTyping(postId: $p, isTyping: true) }', { p: postId }, user.token, headers),
    trackPostView: (headers) => gql(app, 'mutation($p: ID!) { trackPostView(postId: $p) { viewCount } }', { p: postId }, user.token, headers),
    trackPageView: (headers) => gql(app, 'mutation { trackPageView(path: "/rate") }', {}, user.token, headers),
    addComment: (headers) => gql(app, 'mutation($p: ID!) { addComment(postId: $p, content: "again") { id } }', { p: postId }, user.token, headers),
  };

  it.each(Object.keys(RATE_LIMIT_RULES) as RateLimitedAction[])('answers %s past its limit with RATE_LIMITED and retryAfterMs', async (action) => {
    const headers = fromAddress();
    const allowed = RATE_LIMIT_RULES[action].points;
    for (let i = 0; i < allowed; i++) {
      const result = await calls[action](headers);
      expect(result.errors?.[0]?.extensions?.code, `${action} call ${i + 1}`).not.toBe('RATE_LIMITED');
    }
    const refused = await calls[action](headers);
    const error = refused.errors?.[0];
    expect(error?.extensions?.code, JSON.stringify(refused)).toBe('RATE_LIMITED');
    expect(error?.extensions?.retryAfterMs).toBeTypeOf('number');
    expect(Number(error?.extensions?.retryAfterMs)).toBeGreaterThan(0);
    expect(Number(error?.extensions?.retryAfterMs)).toBeLessThanOrEqual(RATE_LIMIT_RULES[action].durationSec * 1000);
  });

  it('limits anonymous callers by address: a client id they pick and rotate buys nothing', async () => {
    const headers = fromAddress();
    const view = (clientId: string) => gql(app, 'mutation($p: ID!) { trackPostView(postId: $p) { viewCount } }', { p: postId }, undefined, { ...headers, 'x-client-id': clientId });
    for (let i = 0; i < RATE_LIMIT_RULES.trackPostView.points; i++) {
      expect((await view(`visitor-${i}`)).errors?.[0]?.extensions?.code).toBeUndefined();
    }
    expect((await view('yet-another-visitor')).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Another address is a caller of its own.
    expect((await gql(app, 'mutation($p: ID!) { trackPostView(postId: $p) { viewCount } }', { p: postId }, undefined, fromAddress())).errors).toBeUndefined();
  });

  it("keys login limits by (email, address): a stranger's failures do not lock the owner out elsewhere", async () => {
    const owner = await registerUser(app, 'owner');
    const stranger = fromAddress();
    for (let i = 0; i <= RATE_LIMIT_RULES.login.points; i++) await gql(app, LOGIN, { e: owner.email }, undefined, stranger);
    expect((await gql(app, LOGIN, { e: owner.email }, undefined, stranger)).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const ownLogin = await gql<{ login: { accessToken: string } }>(
      app,
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
      { e: owner.email, p: owner.password },
      undefined,
      fromAddress(),
    );
    expect(ownLogin.errors).toBeUndefined();
    expect(ownLogin.data?.login.accessToken).toBeTypeOf('string');
  });
});
