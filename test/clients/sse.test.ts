import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { gqlOk } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams, waitForStreamsClosed } from '../helpers/streams.js';

const POST_UPDATED = 'subscription($postId: ID!) { postUpdated(postId: $postId) { change post { title } } }';

interface SseMessage {
  readonly event: string;
  readonly data: { data?: { postUpdated?: { change: string; post: { title: string } | null } }; errors?: { message: string; extensions?: { code?: string } }[] } | null;
}

/**
 * A subscription over Yoga's SSE, exactly as `curl -N` does it (README, "Connecting a client"): a POST to
 * /graphql with `Accept: text/event-stream` and the `Authorization` header, read as a stream of
 * `event:`/`data:` blocks. Yields messages until the caller stops.
 */
async function* sseSubscribe(app: TestApp, query: string, variables: Record<string, unknown>, token: string | null, signal: AbortSignal): AsyncGenerator<SseMessage> {
  const response = await fetch(app.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (!data && event === 'message') continue; // keep-alive comment
      yield { event, data: data ? (JSON.parse(data) as SseMessage['data']) : null };
    }
  }
}

/** The first message satisfying `predicate`, bounded by `timeoutMs`; aborts the request after. */
async function firstMessage(stream: (signal: AbortSignal) => AsyncGenerator<SseMessage>, predicate: (m: SseMessage) => boolean, timeoutMs = 5000): Promise<SseMessage> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no matching SSE message within ${timeoutMs} ms`)), timeoutMs);
  try {
    for await (const message of stream(controller.signal)) if (predicate(message)) return message;
    throw new Error('SSE stream ended without a matching message');
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

describe.runIf(backendAvailable())('subscriptions over SSE (no WebSocket)', () => {
  let app: TestApp;
  let author: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    author = await registerUser(app, 'sse');
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('delivers postUpdated for a draft to its author, authenticated by the Authorization header', async () => {
    const postId = await createPost(app, author, { publish: false });
    const received = firstMessage(
      (signal) => sseSubscribe(app, POST_UPDATED, { postId }, author.token, signal),
      (m) => m.event === 'next' && m.data?.data?.postUpdated?.post?.title === 'Over SSE',
    );
    await waitForStreams(app, 'postUpdated');
    await gqlOk(app, 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }', { id: postId, input: { title: 'Over SSE' } }, author.token);
    const message = await received;
    expect(message.data?.data?.postUpdated?.change).toBe('UPDATED');
    await waitForStreamsClosed(app, 'postUpdated');
  });

  it('refuses the same draft without the header (NOT_FOUND), so the header is what authenticated', async () => {
    const postId = await createPost(app, author, { publish: false });
    const message = await firstMessage((signal) => sseSubscribe(app, POST_UPDATED, { postId }, null, signal), (m) => m.event === 'next');
    expect(message.data?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('rejects a bad token with UNAUTHENTICATED instead of running anonymously', async () => {
    const postId = await createPost(app, author);
    const message = await firstMessage((signal) => sseSubscribe(app, POST_UPDATED, { postId }, 'not-a-token', signal), (m) => m.event === 'next');
    expect(message.data?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
