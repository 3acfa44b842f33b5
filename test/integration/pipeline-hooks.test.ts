import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams } from '../helpers/streams.js';
import { SseStream } from '../helpers/sse.js';

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
    const sse = new SseStream(app, POST_UPDATED, { postId }, author.token);
    const overSse = sse.waitFor((p) => p.data?.postUpdated?.post?.title === 'Hooked', 10_000);
    await waitForStreams(app, 'postUpdated', 2);
    await gqlOk(app, UPDATE, { id: postId, input: { title: 'Hooked' } }, author.token);
    const [fromWs, fromSse] = await Promise.all([overWs.next(), overSse]);
    expect(fromWs).toMatchObject({ data: { postUpdated: { post: { title: 'Hooked' } } }, extensions: { stamped: true } });
    expect(fromSse).toMatchObject({ data: { postUpdated: { post: { title: 'Hooked' } } }, extensions: { stamped: true } });
    overWs.stop();
    sse.close();
  });
});
