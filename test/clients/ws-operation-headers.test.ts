import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { connectWs, gqlOk, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { firstMatching, waitForStreams } from '../helpers/streams.js';

const POST_UPDATED = 'subscription($postId: ID!) { postUpdated(postId: $postId) { change post { title } } }';

type Result = { data?: { postUpdated?: { change: string; post: { title: string } | null } } | null; errors?: readonly { extensions?: { code?: string } }[] };

/** Subscribes the way GraphiQL does: headers from its Headers editor in `extensions.headers`, none in connectionParams. */
function firstResult(client: Client, postId: string, authorization: string, predicate: (r: Result) => boolean): Promise<Result> {
  return firstMatching<Result>(
    (next, fail) => client.subscribe<Result['data']>({ query: POST_UPDATED, variables: { postId }, extensions: { headers: { Authorization: authorization } } }, { next: (r) => next(r as Result), error: fail, complete: () => undefined }),
    predicate,
  );
}

describe.runIf(backendAvailable())('WebSocket operations authenticated by extensions.headers (GraphiQL)', () => {
  let app: TestApp;
  let author: TestUser;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    author = await registerUser(app, 'giql');
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  it('runs a subscription on an anonymous socket as the user whose token the operation carries', async () => {
    const postId = await createPost(app, author, { publish: false });
    const ws = connectWs(app, {});
    sockets.push(ws);
    const event = firstResult(ws.client, postId, `Bearer ${author.token}`, (r) => r.data?.postUpdated?.post?.title === 'Via headers');
    await waitForStreams(app, 'postUpdated');
    await gqlOk(app, 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }', { id: postId, input: { title: 'Via headers' } }, author.token);
    expect((await event).data?.postUpdated?.change).toBe('UPDATED');
  });

  it('refuses the operation with UNAUTHENTICATED when that token is bad, keeping the socket open', async () => {
    const postId = await createPost(app, author);
    const ws = connectWs(app, {});
    sockets.push(ws);
    const failure = await firstResult(ws.client, postId, 'Bearer not-a-token', () => true).catch((error: unknown) => error);
    expect(String(failure)).toContain('UNAUTHENTICATED');
    const health = await firstMatching<{ data?: unknown }>((next, fail) => ws.client.subscribe({ query: '{ __typename }' }, { next, error: fail, complete: () => undefined }), () => true);
    expect(health.data).toEqual({ __typename: 'Query' });
  });
});
