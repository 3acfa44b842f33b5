import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloClient, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { WebSocketLink } from '@apollo/client/link/ws';
import { SubscriptionClient, type ClientOptions } from 'subscriptions-transport-ws';
import type NodeWebSocket from 'ws';
import { HealthDocument, OnHealthDocument, OnPostUpdatedDocument, TrackPageViewDocument } from '../../src/generated/graphql/graphql.js';
import { documentIdOf } from '../../src/shared/document-id.js';
import { backend } from '../helpers/backends.js';
import { bearer, gqlOk } from '../helpers/clients.js';
import { eventually, openAcknowledged } from '../helpers/connections.js';
import { RawSocket } from '../helpers/raw-ws.js';
import { firstMatching, waitForStreams } from '../helpers/streams.js';
import { createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';

// The legacy client's own `ws` (7.x, nested under it), as an app on that client runs it.
const LegacyWs = createRequire(import.meta.url)('subscriptions-transport-ws/node_modules/ws') as typeof NodeWebSocket;

/** What one legacy client's sockets received and how they closed (the client itself reports neither). */
interface Wire {
  readonly frames: Record<string, unknown>[];
  readonly closes: number[];
}

/**
 * The legacy client's WebSocket, recording the wire. With `idOnly`, a `start` that names a trusted document
 * goes without its text: the client insists on a `query`, so this is how an app on it sends an id alone
 * (docs/clients-in-the-field.md).
 */
function recordingWebSocket(wire: Wire, idOnly = false): typeof NodeWebSocket {
  return class extends LegacyWs {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on('message', (data) => wire.frames.push(JSON.parse(String(data)) as Record<string, unknown>));
      this.on('close', (code) => wire.closes.push(code));
    }

    override send(data: string): void {
      const message = JSON.parse(data) as { type: string; payload?: { documentId?: string; query?: string } };
      if (idOnly && message.type === 'start' && message.payload?.documentId) delete message.payload.query;
      super.send(JSON.stringify(message));
    }
  } as unknown as typeof NodeWebSocket;
}

function legacyClient(app: TestApp, options: ClientOptions = {}, idOnly = false) {
  const wire: Wire = { frames: [], closes: [] };
  const client = new SubscriptionClient(app.wsUrl, { reconnect: false, ...options }, recordingWebSocket(wire, idOnly));
  return { client, wire };
}

/** Resolves with the first `connection_error` payload the client reports through its connectionCallback. */
function connectionError(app: TestApp, connectionParams: Record<string, unknown>) {
  const wire: Wire = { frames: [], closes: [] };
  let client!: SubscriptionClient;
  const reported = new Promise<{ message: string; extensions: Record<string, unknown> }>((resolve) => {
    client = new SubscriptionClient(app.wsUrl, { reconnect: false, connectionParams, connectionCallback: (error) => error && resolve(error as never) }, recordingWebSocket(wire));
  });
  return { client, wire, reported };
}

function apolloOver(client: SubscriptionClient) {
  return new ApolloClient({ link: new WebSocketLink(client), cache: new InMemoryCache() });
}

/** The first result of an operation on the legacy client (an `error` message counts as a result with errors). */
function first<TData, TVars extends Record<string, unknown>>(client: SubscriptionClient, query: TypedDocumentNode<TData, TVars> | string, variables: TVars, documentId?: string) {
  return firstMatching<{ data?: TData | null; errors?: { message: string; extensions?: { code?: string } }[] }>(
    (next) => {
      const request = { query, variables, ...(documentId ? { documentId } : {}) } as Parameters<SubscriptionClient['request']>[0];
      const subscription = client.request(request).subscribe({ next: (value) => next(value as never), error: (error) => next({ errors: [error as never] }), complete: () => undefined });
      return () => subscription.unsubscribe();
    },
    () => true,
  );
}

describe.runIf(backend === 'embedded')('the legacy subscriptions-transport-ws protocol (real client, Apollo WebSocketLink)', () => {
  let sharedBackend: TestBackend;
  let onlyBackend: TestBackend;
  let app: TestApp;
  let only: TestApp;
  let author: TestUser;

  beforeAll(async () => {
    [sharedBackend, onlyBackend] = await Promise.all([createTestBackend(), createTestBackend()]);
    [app, only] = await Promise.all([
      startTestApp({ WS_MAX_CONNECTIONS_PER_USER: '2', WS_HEARTBEAT_INTERVAL: '500ms' }, sharedBackend),
      startTestApp({ TRUSTED_DOCUMENTS: 'only' }, onlyBackend),
    ]);
    author = await registerUser(app, 'legacy');
  });

  afterAll(async () => {
    await Promise.all([app?.stop(), only?.stop()]);
    await Promise.all([sharedBackend?.dispose(), onlyBackend?.dispose()]);
  });

  it('picks the protocol by subprotocol: graphql-ws is the legacy one, and graphql-transport-ws wins when both are offered', async () => {
    const legacy = new RawSocket(app.wsUrl, 'graphql-ws');
    const both = new RawSocket(app.wsUrl, ['graphql-ws', 'graphql-transport-ws']);
    await Promise.all([legacy.opened, both.opened]);
    expect([legacy.ws.protocol, both.ws.protocol]).toEqual(['graphql-ws', 'graphql-transport-ws']);
    legacy.terminate();
    both.terminate();
  });

  it('Apollo Client over WebSocketLink subscribes and receives an event, and runs a query and a mutation over the socket', async () => {
    const { client, wire } = legacyClient(app, { connectionParams: bearer(author.token) });
    const apollo = apolloOver(client);
    const postId = await createPost(app, author, { title: 'Before' });
    const event = firstMatching<string>((next, fail) => {
      const subscription = apollo.subscribe({ query: OnPostUpdatedDocument, variables: { postId } }).subscribe({
        next: (result) => (result.error ? fail(result.error) : next(result.data?.postUpdated.post?.title ?? '')),
        error: fail,
      });
      return () => subscription.unsubscribe();
    }, (title) => title === 'After, over the legacy protocol');
    await waitForStreams(app, 'postUpdated', 1);
    await gqlOk(app, 'mutation($id: ID!) { updatePost(id: $id, input: { title: "After, over the legacy protocol" }) { id } }', { id: postId }, author.token);
    expect(await event).toBe('After, over the legacy protocol');
    expect((await apollo.query({ query: HealthDocument, fetchPolicy: 'network-only' })).data?.health.status).toBe('OK');
    expect((await apollo.mutate({ mutation: TrackPageViewDocument, variables: { path: '/legacy' } })).data?.trackPageView).toBe(true);
    expect(wire.frames.some((frame) => frame.type === 'data')).toBe(true);
    apollo.stop();
    client.close();
  });

  it('refuses a bad token with connection_error (UNAUTHENTICATED), then closes with 4403', async () => {
    const { client, wire, reported } = connectionError(app, { authorization: 'Bearer not-a-jwt' });
    expect((await reported).extensions).toMatchObject({ code: 'UNAUTHENTICATED', closeCode: 4403 });
    await eventually(() => wire.closes.length > 0, 'the refused socket to close');
    expect(wire.closes).toEqual([4403]);
    client.close();
  });

  it('counts legacy sockets in the per-user cap with graphql-ws ones: a third socket of the user is refused with 4008', async () => {
    const user = await registerUser(app, 'capped');
    const modern = await Promise.all([openAcknowledged(app, user.token), openAcknowledged(app, user.token)]);
    const { client, wire, reported } = connectionError(app, { token: user.token });
    expect(await reported).toMatchObject({ message: expect.stringMatching(/Too many connections/), extensions: { code: 'RATE_LIMITED', closeCode: 4008 } });
    await eventually(() => wire.closes.length > 0, 'the refused socket to close');
    expect(wire.closes).toEqual([4008]);
    client.close();
    await Promise.all(modern.map((ws) => ws.dispose()));
  });

  it('runs a trusted document by id alone, and TRUSTED_DOCUMENTS=only refuses an unknown id and an ad-hoc text with coded errors', async () => {
    const { client } = legacyClient(app, { connectionParams: bearer(author.token) }, true);
    const byId = await first(client, OnHealthDocument, { intervalSeconds: 1 }, documentIdOf(OnHealthDocument));
    expect(byId.data?.health.status).toBe('OK');
    client.close();

    // Anonymous (health needs no token): registering a user there would take a trusted mutation.
    const strict = legacyClient(only, {}, true);
    expect((await first(strict.client, HealthDocument, {}, documentIdOf(HealthDocument))).data?.health.status).toBe('OK');
    const unknown = await first(strict.client, HealthDocument, {}, `sha256:${'0'.repeat(64)}`);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const adHoc = await first(strict.client, '{ health { status } }', {});
    expect(adHoc.errors?.[0]?.extensions?.code).toBe('TRUSTED_DOCUMENT_REQUIRED');
    strict.client.close();
  });

  it('sends ka right after connection_ack and again on the keep-alive interval', async () => {
    const { client, wire } = legacyClient(app, { connectionParams: bearer(author.token) });
    await eventually(() => wire.frames.filter((frame) => frame.type === 'ka').length >= 2, 'two ka messages');
    expect(wire.frames.slice(0, 2).map((frame) => frame.type)).toEqual(['connection_ack', 'ka']);
    client.close();
  });

  it('answers a bad message with error and keeps the socket usable', async () => {
    const socket = new RawSocket(app.wsUrl, 'graphql-ws');
    await socket.init({ authorization: `Bearer ${author.token}` });
    socket.send('{not json');
    socket.send({ id: 'x', type: 'subscribe', payload: { query: '{ health { status } }' } });
    expect((await socket.waitFor((frame) => frame.type === 'error' && frame.id === undefined)).payload).toEqual([{ message: 'Message must be JSON-parseable', extensions: { code: 'BAD_REQUEST' } }]);
    expect(await socket.waitFor((frame) => frame.type === 'error' && frame.id === 'x')).toBeTruthy();
    socket.send({ id: 'q', type: 'start', payload: { query: '{ health { status } }' } });
    expect((await socket.waitFor((frame) => frame.id === 'q' && frame.type === 'data')).payload).toEqual({ data: { health: { status: 'OK' } } });
    await socket.waitFor((frame) => frame.id === 'q' && frame.type === 'complete');
    socket.send({ id: 'bad', type: 'start', payload: { query: '{ nope }' } });
    const refused = await socket.waitFor((frame) => frame.id === 'bad');
    expect(refused.type).toBe('error');
    expect(JSON.stringify(refused.payload)).toContain('GRAPHQL_VALIDATION_FAILED');
    socket.terminate();
  });
});
