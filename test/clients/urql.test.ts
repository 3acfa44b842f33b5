import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type AnyVariables, type TypedDocumentNode } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';
import { CreatePostDocument, LoginDocument, MeDocument, OnPostUpdatedDocument, PublishPostDocument, UpdatePostDocument } from '../../src/generated/graphql/graphql.js';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { registerUser, type TestUser } from '../helpers/users.js';
import { firstMatching, waitForStreams, waitForStreamsClosed } from '../helpers/streams.js';

type Transport = 'graphql-ws' | 'sse';

/** A subscription transport urql's `subscriptionExchange` can forward to, with a way to shut it down. */
interface SubscriptionSink {
  subscribe(request: { query: string; variables?: Record<string, unknown>; operationName?: string }, sink: { next(value: never): void; error(error: unknown): void; complete(): void }): () => void;
  dispose(): void | Promise<void>;
}

/**
 * urql set up as its docs do: `fetchExchange` for queries and mutations (auth header from
 * `fetchOptions`), `subscriptionExchange` forwarding subscriptions to a graphql-ws client or to a
 * graphql-sse client (Yoga's SSE on the same /graphql, authenticated by the Authorization header).
 */
function createUrql(app: TestApp, transport: Transport) {
  let token: string | null = null;
  const authHeader = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  const sink: SubscriptionSink =
    transport === 'graphql-ws'
      ? (() => {
          const ws = createWsClient({ url: app.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: authHeader });
          return { subscribe: (request, s) => ws.subscribe(request, s), dispose: () => ws.dispose() };
        })()
      : (() => {
          const sse = createSseClient({ url: app.httpUrl, headers: authHeader, retryAttempts: 0 });
          return { subscribe: (request, s) => sse.subscribe(request, s), dispose: () => sse.dispose() };
        })();
  const client = new Client({
    url: app.httpUrl,
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return { subscribe: (observer) => ({ unsubscribe: sink.subscribe(input, observer as never) }) };
        },
      }),
    ],
    fetchOptions: () => ({ headers: authHeader() }),
    requestPolicy: 'network-only',
  });
  return { client, setToken: (value: string) => (token = value), dispose: () => sink.dispose() };
}

/** The first subscription result matching `predicate`, bounded. */
function nextEvent<TData, TVars extends AnyVariables>(client: Client, query: TypedDocumentNode<TData, TVars>, variables: TVars, predicate: (data: TData) => boolean): Promise<TData> {
  return firstMatching<TData>(
    (next, fail) => {
      const { unsubscribe } = client.subscription(query, variables).subscribe((result) => {
        if (result.error) fail(result.error);
        else if (result.data) next(result.data);
      });
      return unsubscribe;
    },
    predicate,
  );
}

describe.runIf(backendAvailable())('urql', () => {
  let app: TestApp;
  let author: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    author = await registerUser(app, 'urql');
  });

  afterAll(async () => {
    await app?.stop();
  });

  describe.each<Transport>(['graphql-ws', 'sse'])('with subscriptionExchange over %s', (transport) => {
    let urql: ReturnType<typeof createUrql>;

    beforeAll(async () => {
      urql = createUrql(app, transport);
      // Streams of the previous transport's test must be gone before this one counts its own.
      await waitForStreamsClosed(app, 'postUpdated');
    });

    afterAll(async () => {
      await urql?.dispose();
    });

    it('logs in, queries, runs a mutation and receives the matching postUpdated event', async () => {
      const login = await urql.client.mutation(LoginDocument, { email: author.email, password: author.password }).toPromise();
      expect(login.error).toBeUndefined();
      urql.setToken(login.data!.login.accessToken);

      const me = await urql.client.query(MeDocument, {}).toPromise();
      expect(me.data?.me?.username).toBe(author.username);

      // A draft: only its author may watch it, so the event proves this transport carried the token.
      const created = await urql.client.mutation(CreatePostDocument, { input: { title: `urql ${transport}`, content: 'draft' } }).toPromise();
      const postId = created.data!.createPost.id;

      const title = `urql ${transport} renamed`;
      const event = nextEvent(urql.client, OnPostUpdatedDocument, { postId }, (d) => d.postUpdated.post?.title === title);
      await waitForStreams(app, 'postUpdated');
      const updated = await urql.client.mutation(UpdatePostDocument, { id: postId, input: { title } }).toPromise();
      expect(updated.error).toBeUndefined();

      const data = await event;
      expect(data.postUpdated.change).toBe('UPDATED');
      expect(data.postUpdated.post?.status).toBe('DRAFT');

      const published = await urql.client.mutation(PublishPostDocument, { id: postId }).toPromise();
      expect(published.data?.publishPost.status).toBe('PUBLISHED');
    });
  });
});
