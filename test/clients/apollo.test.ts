import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloClient, HttpLink, InMemoryCache, split, type TypedDocumentNode } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  AddCommentDocument,
  CreatePostDocument,
  OnCommentAddedDocument,
  OnNotificationsDocument,
  UnreadNotificationCountDocument,
  LikePostDocument,
  LoginDocument,
  MeDocument,
  OnPostStatsDocument,
  OnPostUpdatedDocument,
  PublishPostDocument,
  UpdatePostDocument,
} from '../../src/generated/graphql/graphql.js';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { gqlOk } from '../helpers/clients.js';
import { print } from 'graphql';
import { registerUser, type TestUser } from '../helpers/users.js';
import { firstMatching, waitForStreams } from '../helpers/streams.js';

/**
 * Apollo Client 4 set up as its docs do: HttpLink for queries and mutations, GraphQLWsLink for
 * subscriptions, `split` on the operation type, the token read at connect time by `connectionParams`.
 * Every document is a codegen TypedDocumentNode, so these calls are type-checked against the schema.
 */
function createApollo(app: TestApp) {
  let token: string | null = null;
  const wsClient: WsClient = createClient({
    url: app.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    // A function, so a reconnect sends the current (refreshed) token, not the one from start-up.
    connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
  });
  const auth = new SetContextLink((prev) => ({ headers: { ...(prev.headers as Record<string, string> | undefined), ...(token ? { authorization: `Bearer ${token}` } : {}) } }));
  const link = split(
    ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
    new GraphQLWsLink(wsClient),
    auth.concat(new HttpLink({ uri: app.httpUrl })),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  return {
    client,
    wsClient,
    setToken: (value: string) => (token = value),
    async dispose() {
      client.stop();
      await wsClient.dispose();
    },
  };
}

/** The first subscription result matching `predicate` (bounded wait; the subscription ends after). */
function nextEvent<TData, TVars extends Record<string, unknown>>(
  client: ApolloClient,
  query: TypedDocumentNode<TData, TVars>,
  variables: TVars,
  predicate: (data: TData) => boolean,
): Promise<TData> {
  return firstMatching<TData>(
    (next, fail) => {
      const subscription = client.subscribe({ query, variables } as ApolloClient.SubscribeOptions<TData, TVars>).subscribe({
        next: (result) => {
          if (result.error) fail(result.error);
          else if (result.data) next(result.data as TData);
        },
        error: fail,
      });
      return () => subscription.unsubscribe();
    },
    predicate,
  );
}

describe.runIf(backendAvailable())('Apollo Client (HttpLink + GraphQLWsLink)', () => {
  let app: TestApp;
  let author: TestUser;
  let apollo: ReturnType<typeof createApollo>;

  beforeAll(async () => {
    app = await startTestApp();
    author = await registerUser(app, 'apollo');
    apollo = createApollo(app);
  });

  afterAll(async () => {
    await apollo?.dispose();
    await app?.stop();
  });

  it('logs in and queries as the logged-in user', async () => {
    const login = await apollo.client.mutate({ mutation: LoginDocument, variables: { email: author.email, password: author.password } });
    const payload = login.data?.login;
    expect(payload?.user.username).toBe(author.username);
    apollo.setToken(payload!.accessToken);

    const me = await apollo.client.query({ query: MeDocument, fetchPolicy: 'network-only' });
    expect(me.data?.me?.username).toBe(author.username);
    expect(me.data?.me?.email).toBe(author.email);
  });

  it('runs a mutation and receives the matching postUpdated event over WebSocket', async () => {
    const created = await apollo.client.mutate({ mutation: CreatePostDocument, variables: { input: { title: 'Apollo draft', content: 'Hello from Apollo' } } });
    const postId = created.data!.createPost.id;
    await apollo.client.mutate({ mutation: PublishPostDocument, variables: { id: postId } });

    const event = nextEvent(apollo.client, OnPostUpdatedDocument, { postId }, (d) => d.postUpdated.post?.title === 'Renamed by Apollo');
    await waitForStreams(app, 'postUpdated');
    const updated = await apollo.client.mutate({ mutation: UpdatePostDocument, variables: { id: postId, input: { title: 'Renamed by Apollo' } } });
    expect(updated.data?.updatePost.title).toBe('Renamed by Apollo');

    const data = await event;
    expect(data.postUpdated.change).toBe('UPDATED');
    expect(data.postUpdated.post?.id).toBe(postId);
    expect(data.postUpdated.eventId).toMatch(/^[0-9a-f]{16}-[0-9a-f]{8}$/);
  });

  it('receives postStats after likePost', async () => {
    const created = await apollo.client.mutate({ mutation: CreatePostDocument, variables: { input: { title: 'Liked', content: 'Like me' } } });
    const postId = created.data!.createPost.id;
    await apollo.client.mutate({ mutation: PublishPostDocument, variables: { id: postId } });

    const event = nextEvent(apollo.client, OnPostStatsDocument, { postId }, (d) => d.postStats.likeCount === 1);
    await waitForStreams(app, 'postStatsChanged');
    const liked = await apollo.client.mutate({ mutation: LikePostDocument, variables: { postId } });
    expect(liked.data?.likePost.likeCount).toBe(1);
    expect((await event).postStats.postId).toBe(postId);
  });

  it('receives commentAdded and a COMMENT_ADDED notification when a reader comments on the post', async () => {
    const created = await apollo.client.mutate({ mutation: CreatePostDocument, variables: { input: { title: 'Discuss', content: 'Comments welcome' } } });
    const postId = created.data!.createPost.id;
    await apollo.client.mutate({ mutation: PublishPostDocument, variables: { id: postId } });
    const reader = await registerUser(app, 'commenter');
    const content = 'A comment seen by Apollo';

    const comment = nextEvent(apollo.client, OnCommentAddedDocument, { postId }, (d) => d.commentAdded.comment.content === content);
    const notification = nextEvent(apollo.client, OnNotificationsDocument, { types: ['COMMENT_ADDED'] }, (d) => d.notifications.data !== null && JSON.stringify(d.notifications.data).includes(postId));
    await waitForStreams(app, 'commentAdded');
    await waitForStreams(app, 'notificationCreated');
    // The reader writes with a plain HTTP client: the event crosses from one client to another.
    await gqlOk(app, print(AddCommentDocument), { postId, content }, reader.token);

    const added = await comment;
    expect(added.commentAdded.comment.status).toBe('PENDING'); // the post's author sees pending comments at once
    expect(added.commentAdded.comment.author.username).toBe(reader.username);
    const received = await notification;
    expect(received.notifications.notificationType).toBe('COMMENT_ADDED');
    expect(received.notifications.read).toBe(false);

    const unread = await apollo.client.query({ query: UnreadNotificationCountDocument, fetchPolicy: 'network-only' });
    expect(unread.data?.unreadNotificationCount).toBeGreaterThanOrEqual(1);
  });
});
