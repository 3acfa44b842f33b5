import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { gql } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { RATE_LIMIT_RULES, type RateLimitedAction } from '../../src/modules/limits/rate-limits.js';

// Runs on both projects: rate-limiter-flexible in memory (embedded) and on Redis (services).
describe.runIf(backendAvailable())('rate limits', () => {
  let app: TestApp;
  let user: TestUser;
  let postId: string;

  beforeAll(async () => {
    app = await startTestApp();
    user = await registerUser(app, 'limited');
    postId = await createPost(app, user);
  });
  afterAll(async () => {
    await app?.stop();
  });

  const calls: Record<RateLimitedAction, () => Promise<{ errors?: { extensions?: { code?: string; retryAfterMs?: unknown } }[] }>> = {
    login: () => gql(app, 'mutation($e: String!) { login(email: $e, password: "wrong password here") { accessToken } }', { e: user.email }),
    setTyping: () => gql(app, 'mutation($p: ID!) { setTyping(postId: $p, isTyping: true) }', { p: postId }, user.token),
    trackPostView: () => gql(app, 'mutation($p: ID!) { trackPostView(postId: $p) { viewCount } }', { p: postId }, user.token),
    trackPageView: () => gql(app, 'mutation { trackPageView(path: "/rate") }', {}, user.token),
    addComment: () => gql(app, 'mutation($p: ID!) { addComment(postId: $p, content: "again") { id } }', { p: postId }, user.token),
  };

  it.each(Object.keys(RATE_LIMIT_RULES) as RateLimitedAction[])('answers %s past its limit with RATE_LIMITED and retryAfterMs', async (action) => {
    const allowed = RATE_LIMIT_RULES[action].points;
    for (let i = 0; i < allowed; i++) {
      const result = await calls[action]();
      expect(result.errors?.[0]?.extensions?.code, `${action} call ${i + 1}`).not.toBe('RATE_LIMITED');
    }
    const refused = await calls[action]();
    const error = refused.errors?.[0];
    expect(error?.extensions?.code, JSON.stringify(refused)).toBe('RATE_LIMITED');
    expect(error?.extensions?.retryAfterMs).toBeTypeOf('number');
    expect(Number(error?.extensions?.retryAfterMs)).toBeGreaterThan(0);
    expect(Number(error?.extensions?.retryAfterMs)).toBeLessThanOrEqual(RATE_LIMIT_RULES[action].durationSec * 1000);
  });
});
