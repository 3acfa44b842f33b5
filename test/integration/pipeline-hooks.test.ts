import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams } from '../helpers/streams.js';

const POST_UPDATED = 'subscription($postId: ID!) { postUpdated(postId: $postId) { change post { title } } }';
const UPDATE = 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }';

/** A per-result hook of the kind tracing and response plugins are: it stamps every subscription result. */
const stampEveryResult: Plugin<Record<string, unknown>> = {
  onSubscribe: () => ({
    onSubscribeResult: () => ({
      onNext: ({ result, setResult }: { result: ExecutionResult; setResult: (result: ExecutionResult) => void }) => setResult({ ...result, extensions: { ...result.extensions, stamped: true } }),
    }),
  }),
};

/** The first SSE `next` event whose data satisfies `predicate` (bounded by the abort signal's timeout). */
async function sseFirst(app: TestApp, token: string, variables: Record<string, unknown>, predicate: (payload: Record<string, any>) => boolean): Promise<Record<string, any>> {
  const response = await fetch(app.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: POST_UPDATED, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').find((line) => line.startsWith('data:'));
      if (!data) continue;
      const payload = JSON.parse(data.slice(5)) as Record<string, any>;
      if (predicate(payload)) return payload;
    }
  }
  throw new Error('SSE stream ended without a matching event');
}

// "One pipeline, several doors": a plugin acting on each result sees WebSocket and SSE results alike.
describe.runIf(backendAvailable())('a per-result plugin in the pipeline', () => {
  let app: TestApp;
  let author: TestUser;
  let ws: WsHandle;

  beforeAll(async () => {
    app = await startTestApp({}, undefined, { plugins: [stampEveryResult] });
    author = await registerUser(app, 'hooked');
  });
  afterAll(async () => {
    await ws?.dispose();
    await app?.stop();
  });

  it('applies to WebSocket subscriptions exactly as to SSE ones', async () => {
    const postId = await createPost(app, author);
    ws = connectWs(app, bearer(author.token));
    const overWs = new Subscription(ws.client, POST_UPDATED, { postId });
    const overSse = sseFirst(app, author.token, { postId }, (p) => p.data?.postUpdated?.post?.title === 'Hooked');
    await waitForStreams(app, 'postUpdated', 2);
    await gqlOk(app, UPDATE, { id: postId, input: { title: 'Hooked' } }, author.token);
    const [fromWs, fromSse] = await Promise.all([overWs.next(), overSse]);
    expect(fromWs).toMatchObject({ data: { postUpdated: { post: { title: 'Hooked' } } }, extensions: { stamped: true } });
    expect(fromSse).toMatchObject({ data: { postUpdated: { post: { title: 'Hooked' } } }, extensions: { stamped: true } });
    overWs.stop();
  });
});
