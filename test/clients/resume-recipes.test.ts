import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { print } from 'graphql';
import { Observable } from 'rxjs';
import { pipe, subscribe } from 'wonka';
import WebSocket from 'ws';
import { OnCommentAddedDocument } from '../../src/generated/graphql/graphql.js';
import { subscribeResumable } from '../../examples/lib/resumable.js';
import { backend } from '../helpers/backends.js';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { gqlOk } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams } from '../helpers/streams.js';
import { eventually } from '../helpers/connections.js';

// The resume recipes of docs/clients.md, as an Apollo Client or urql app would use them: the socket drops,
// comments are written before it comes back, and the app's subscription delivers every one, then live ones.

const ADD_COMMENT = 'mutation($postId: ID!, $content: String!) { addComment(postId: $postId, content: $content) { id } }';

type Recipe = 'Apollo Client' | 'urql';

/** A graphql-ws client that reconnects after a drop only once `gate` opens (so writes land while it is away). */
function droppableClient(app: TestApp, token: string) {
  let gate: Promise<void> = Promise.resolve();
  const client: WsClient = createClient({
    url: app.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 5,
    retryWait: () => gate,
  });
  return {
    client,
    /** Drops the socket now; it reconnects when the returned function is called. */
    drop(): () => void {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      client.terminate();
      return open;
    },
  };
}

/** Subscribes to commentAdded through the recipe's client, collecting the comments' contents. */
function subscribeWith(recipe: Recipe, app: TestApp, ws: WsClient, postId: string, received: string[]): () => void {
  const collect = (data: { commentAdded: { comment: { content: string } } } | null | undefined) => {
    if (data) received.push(data.commentAdded.comment.content);
  };
  if (recipe === 'Apollo Client') {
    // docs/clients.md "Resuming": a link that subscribes through subscribeResumable.
    const resumableLink = new ApolloLink(
      (operation) =>
        new Observable((observer) =>
          subscribeResumable(ws, { query: print(operation.query), variables: operation.variables, operationName: operation.operationName }, observer),
        ),
    );
    const apollo = new ApolloClient({ link: resumableLink, cache: new InMemoryCache() });
    const subscription = apollo.subscribe({ query: OnCommentAddedDocument, variables: { postId } }).subscribe({ next: (result) => collect(result.data) });
    return () => {
      subscription.unsubscribe();
      apollo.stop();
    };
  }
  const urql = new UrqlClient({
    url: app.httpUrl,
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: subscribeResumable(ws, { ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
      fetchExchange,
    ],
  });
  const { unsubscribe } = pipe(
    urql.subscription(OnCommentAddedDocument, { postId }),
    subscribe((result) => collect(result.data)),
  );
  return unsubscribe;
}

describe.runIf(backendAvailable() && backend === 'embedded')('resume recipes', () => {
  let app: TestApp;
  let author: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    author = await registerUser(app, 'recipe_author');
  });
  afterAll(async () => {
    await app?.stop();
  });

  it.each<Recipe>(['Apollo Client', 'urql'])('%s: after a drop, the subscription delivers every comment written meanwhile, once, then live ones', async (recipe) => {
    const postId = await createPost(app, author);
    // The post's author sees every comment at once (pending ones too); the commenter is this test's own.
    const commenter = await registerUser(app, 'recipe_commenter');
    const write = (content: string) => gqlOk(app, ADD_COMMENT, { postId, content }, commenter.token);
    const { client, drop } = droppableClient(app, author.token);
    const received: string[] = [];
    const stop = subscribeWith(recipe, app, client, postId, received);
    try {
      await waitForStreams(app, 'commentAdded', 1);
      await write('seen');
      await eventually(() => received.includes('seen'), 'the first comment', 10_000);

      const reconnect = drop();
      for (const content of ['while away 1', 'while away 2', 'while away 3']) await write(content);
      reconnect();
      await eventually(() => received.length >= 4, 'the comments written while away', 10_000);
      await write('live');
      await eventually(() => received.includes('live'), 'the live comment', 10_000);
      expect(received).toEqual(['seen', 'while away 1', 'while away 2', 'while away 3', 'live']);
    } finally {
      stop();
      await client.dispose();
    }
  });
});
