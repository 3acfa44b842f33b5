import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gql, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';

// Small limits so short documents break them; each limit is tested on its own document.
const LIMITS = { GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_ALIASES: '3', GRAPHQL_MAX_TOKENS: '120', GRAPHQL_MAX_COST: '30' };

const TOO_DEEP = 'query { posts { edges { node { author { id } } } } }';
const TOO_MANY_ALIASES = 'query { a: health { status } b: health { status } c: health { status } d: health { status } }';
// Many tokens, little depth or cost: 40 variable definitions (4 tokens each).
const TOO_MANY_TOKENS = `query(${Array.from({ length: 40 }, (_, i) => `$v${i}: Int`).join(', ')}) { __typename }`;
const TOO_COSTLY = 'query { posts { edges { node { id title content status createdAt updatedAt viewCount likeCount commentCount } } } }';
const DEEP_SUBSCRIPTION = 'subscription($postId: ID!) { postUpdated(postId: $postId) { post { author { id } } } }';

type Errors = { message: string; extensions?: { code?: string; limit?: string } }[] | undefined;

/** graphql-ws hands errors over as an array; the test client wraps non-Error values in an Error. */
function errorsOf(failure: unknown): Errors {
  if (Array.isArray(failure)) return failure as Errors;
  const message = typeof failure === 'string' ? failure : (failure as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && message.startsWith('[')) return JSON.parse(message) as Errors;
  throw new Error(`expected GraphQL errors, got ${String(failure)}`);
}

function expectLimit(errors: Errors, limit: string): void {
  expect(errors?.length, JSON.stringify(errors)).toBeGreaterThan(0);
  const error = errors?.find((e) => e.extensions?.limit === limit);
  expect(error, JSON.stringify(errors)).toBeDefined();
  expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error?.message).toMatch(/limit/i);
  expect(error?.message).not.toMatch(/^Syntax Error/);
}

describe.runIf(backendAvailable())('query limits (GraphQL Armor) on every transport', () => {
  let app: TestApp;
  let author: TestUser;
  let postId: string;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    app = await startTestApp(LIMITS);
    author = await registerUser(app, 'limits');
    postId = await createPost(app, author);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  it('answers a document within every limit', async () => {
    const ok = await gql(app, 'query { health { status } post(id: "none") { id title author { id } } }');
    expect(ok.errors).toBeUndefined();
  });

  it.each([
    ['maxDepth', TOO_DEEP],
    ['maxAliases', TOO_MANY_ALIASES],
    ['maxTokens', TOO_MANY_TOKENS],
    ['maxCost', TOO_COSTLY],
  ])('rejects an HTTP query over %s with a coded error and runs nothing', async (limit, query) => {
    const result = await gql(app, query);
    expectLimit(result.errors, limit);
    expect(result.data ?? null).toBeNull();
  });

  it('rejects too many directives', async () => {
    const directives = Array.from({ length: 51 }, () => '@include(if: true)').join(' ');
    const result = await gql(app, `query { health ${directives} { status } }`);
    // The token limit may trip first on such a document; either way it is a coded limit error.
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(['maxDirectives', 'maxTokens']).toContain(result.errors?.[0]?.extensions?.limit);
  });

  it('rejects an over-deep subscription over WebSocket with an error message, keeping the socket open', async () => {
    const ws = connectWs(app, bearer(author.token));
    sockets.push(ws);
    const deep = new Subscription(ws.client, DEEP_SUBSCRIPTION, { postId });
    const errors = errorsOf(await deep.failure());
    expectLimit(errors, 'maxDepth');
    // Same socket still serves a document within limits.
    const fine = new Subscription(ws.client, 'query { health { status } }');
    const result = await fine.next();
    expect(result.errors).toBeUndefined();
  });

  it('rejects an over-long WebSocket document (token limit) with a coded error', async () => {
    const ws = connectWs(app, bearer(author.token));
    sockets.push(ws);
    const sub = new Subscription(ws.client, TOO_MANY_TOKENS);
    expectLimit(errorsOf(await sub.failure()), 'maxTokens');
  });

  it('rejects an over-deep SSE subscription with a coded error', async () => {
    const response = await fetch(app.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${author.token}` },
      body: JSON.stringify({ query: DEEP_SUBSCRIPTION, variables: { postId } }),
    });
    const errors = (await firstSseResult(response)).errors;
    expectLimit(errors, 'maxDepth');
  });
});

/** Reads an SSE (or plain JSON) response until its first result, then stops reading. */
async function firstSseResult(response: Response): Promise<{ errors?: Errors }> {
  if (!response.headers.get('content-type')?.includes('text/event-stream')) return (await response.json()) as { errors?: Errors };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + 5000;
  try {
    while (Date.now() < deadline) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      const line = text.split('\n').find((l) => l.startsWith('data:') && l.length > 5);
      if (line) return JSON.parse(line.slice(5)) as { errors?: Errors };
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  throw new Error(`no SSE result in: ${text.slice(0, 500)}`);
}
