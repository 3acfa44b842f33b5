import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloClient, HttpLink, InMemoryCache, gql as apolloGql, type DocumentNode } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { print } from '@apollo/client/utilities';
import { createClient as createSseClient, type RequestParams } from 'graphql-sse';
import { GetPostDocument, HealthDocument, LoginDocument, OnHealthDocument, OnPostUpdatedDocument } from '../../src/generated/graphql/graphql.js';
import { documentIdOf } from '../../src/shared/document-id.js';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { gqlOk } from '../helpers/clients.js';
import { RawSocket } from '../helpers/raw-ws.js';
import { backend as testBackendKind } from '../helpers/backends.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { firstMatching, waitForStreams, waitForStreamsClosed } from '../helpers/streams.js';

interface Body {
  readonly data?: Record<string, any> | null;
  readonly errors?: { message: string; extensions?: { code?: string } }[];
}

const HEALTH_ID = documentIdOf(HealthDocument);
const UNKNOWN_ID = `sha256:${'0'.repeat(64)}`;
const AD_HOC = '{ health { status } }';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs an example script as a user would (`node --import tsx`, one process); resolves with its exit code and output. */
function example(script: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function post(app: TestApp, body: Record<string, unknown>, token?: string): Promise<Body & { status: number }> {
  const response = await fetch(app.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { ...((await response.json()) as Body), status: response.status };
}

async function get(app: TestApp, params: Record<string, string>): Promise<Body & { status: number; cacheControl: string | null }> {
  const response = await fetch(`${app.httpUrl}?${new URLSearchParams(params)}`, { headers: { accept: 'application/graphql-response+json' } });
  return { ...((await response.json()) as Body), status: response.status, cacheControl: response.headers.get('cache-control') };
}

/** graphql-sse (distinct connections, as Yoga serves it): a request with `documentId` and no `query`. */
function sseClient(app: TestApp, token?: string) {
  return createSseClient({ url: app.httpUrl, headers: (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {}), retryAttempts: 0 });
}

/** The first SSE result matching `predicate` (its errors included), bounded. */
function firstSseResult(client: ReturnType<typeof sseClient>, request: Record<string, unknown>, predicate: (result: Body) => boolean): Promise<Body> {
  return firstMatching<Body>((next, fail) => client.subscribe(request as unknown as RequestParams, { next: (value) => next(value as Body), error: fail, complete: () => undefined }), predicate);
}

/**
 * Apollo Client with its persisted-queries link in front of HttpLink, as a client build using Herald's
 * manifest would run it: a codegen document is sent by the id codegen embedded in it; any other
 * document by the sha256 of its printed text (node:crypto), which Herald does not know, so Apollo's
 * link falls back to sending the text. Every request body and URL is recorded.
 */
function persistedApollo(app: TestApp, options: { useGET?: boolean } = {}) {
  const sent: { method: string; url: string; body: Record<string, unknown> | null }[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    sent.push({ method: init?.method ?? 'GET', url: String(input), body: typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : null });
    return fetch(input, init);
  };
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const persisted = new PersistedQueryLink({
    generateHash: (document: DocumentNode) => {
      const embedded = (document as { __meta__?: { hash?: string } }).__meta__?.hash;
      return embedded ? embedded.replace(/^sha256:/, '') : sha256(print(document));
    },
    useGETForHashedQueries: options.useGET ?? false,
  });
  const client = new ApolloClient({ link: persisted.concat(new HttpLink({ uri: app.httpUrl, fetch: recordingFetch })), cache: new InMemoryCache() });
  return { client, sent };
}

describe.runIf(backendAvailable())('trusted documents over HTTP and SSE', () => {
  let backend: TestBackend;
  let onlyBackend: TestBackend | undefined;
  let app: TestApp;
  let only: TestApp;
  let author: TestUser;

  beforeAll(async () => {
    backend = await createTestBackend();
    // Two instances: the default (allow) and TRUSTED_DOCUMENTS=only, on one database where two processes
    // may share one (PostgreSQL); the embedded one belongs to one process, so `only` gets its own there.
    onlyBackend = testBackendKind === 'embedded' ? await createTestBackend() : undefined;
    [app, only] = await Promise.all([startTestApp({}, backend), startTestApp({ TRUSTED_DOCUMENTS: 'only' }, onlyBackend ?? backend)]);
    author = await registerUser(app, 'trusted');
  });

  afterAll(async () => {
    await Promise.all([app?.stop(), only?.stop()]);
    await backend?.dispose();
    await onlyBackend?.dispose();
  });

  describe('TRUSTED_DOCUMENTS=allow (default)', () => {
    it('runs a query by documentId over POST, with variables and the bearer token', async () => {
      const postId = await createPost(app, author, { publish: false, title: 'By id' });
      const result = await post(app, { documentId: documentIdOf(GetPostDocument), variables: { id: postId } }, author.token);
      expect(result.status).toBe(200);
      expect(result.data?.post).toMatchObject({ id: postId, title: 'By id', status: 'DRAFT', author: { username: author.username } });
    });

    it('runs a query by documentId and by Apollo persistedQuery over GET, and refuses a mutation over GET (405)', async () => {
      expect((await get(app, { documentId: HEALTH_ID })).data?.health?.status).toBe('OK');
      const apolloGet = await get(app, { extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: HEALTH_ID.slice('sha256:'.length) } }) });
      expect(apolloGet.data?.health?.status).toBe('OK');
      const mutation = await get(app, { documentId: documentIdOf(LoginDocument), variables: JSON.stringify({ email: author.email, password: author.password }) });
      expect(mutation.status).toBe(405);
      expect(mutation.data).toBeUndefined();
    });

    it('answers an unknown id with PERSISTED_QUERY_NOT_FOUND (uncacheable over GET), and still runs any text', async () => {
      const missing = await post(app, { documentId: UNKNOWN_ID });
      expect(missing.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const missingGet = await get(app, { documentId: UNKNOWN_ID });
      expect(missingGet.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(missingGet.cacheControl).toContain('no-cache');
      expect((await post(app, { query: AD_HOC })).data).toEqual({ health: { status: 'OK' } });
    });

    it("Apollo Client's persisted-queries link: a codegen document goes by id alone, another one falls back to its text", async () => {
      const { client, sent } = persistedApollo(app);
      const health = await client.query({ query: HealthDocument, fetchPolicy: 'network-only' });
      expect(health.data?.health.status).toBe('OK');
      expect(sent).toHaveLength(1);
      expect(sent[0]?.body).not.toHaveProperty('query');
      expect(sent[0]?.body?.extensions).toMatchObject({ persistedQuery: { version: 1, sha256Hash: HEALTH_ID.slice('sha256:'.length) } });

      sent.length = 0;
      const adHoc = await client.query({ query: apolloGql`query AdHocHealth { health { status database } }`, fetchPolicy: 'network-only' });
      expect(adHoc.data).toMatchObject({ health: { status: 'OK', database: 'UP' } });
      expect(sent.map((s) => typeof s.body?.query)).toEqual(['undefined', 'string']);
      client.stop();
    });

    it("Apollo Client's persisted-queries link with useGETForHashedQueries sends the hash over GET", async () => {
      const { client, sent } = persistedApollo(app, { useGET: true });
      const health = await client.query({ query: HealthDocument, fetchPolicy: 'network-only' });
      expect(health.data?.health.status).toBe('OK');
      expect(sent).toHaveLength(1);
      expect(sent[0]?.method).toBe('GET');
      expect(new URL(sent[0]!.url).searchParams.get('query')).toBeNull();
      client.stop();
    });

    it('delivers an SSE subscription started by documentId (graphql-sse)', async () => {
      const postId = await createPost(app, author, { publish: false });
      const client = sseClient(app, author.token);
      try {
        const event = firstSseResult(client, { documentId: documentIdOf(OnPostUpdatedDocument), variables: { postId } }, (r) => r.data?.postUpdated?.post?.title === 'Seen over SSE by id');
        await waitForStreams(app, 'postUpdated');
        await gqlOk(app, 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }', { id: postId, input: { title: 'Seen over SSE by id' } }, author.token);
        expect((await event).data?.postUpdated).toMatchObject({ change: 'UPDATED', post: { id: postId } });
      } finally {
        client.dispose();
      }
      await waitForStreamsClosed(app, 'postUpdated');
    });
  });

  describe('TRUSTED_DOCUMENTS=only', () => {
    it('refuses a document text with TRUSTED_DOCUMENT_REQUIRED over POST and GET, and runs it by id', async () => {
      const posted = await post(only, { query: AD_HOC });
      expect(posted.status).toBe(400);
      expect(posted.data).toBeUndefined();
      expect(posted.errors?.[0]?.extensions?.code).toBe('TRUSTED_DOCUMENT_REQUIRED');
      expect((await get(only, { query: AD_HOC })).errors?.[0]?.extensions?.code).toBe('TRUSTED_DOCUMENT_REQUIRED');
      expect((await post(only, { documentId: HEALTH_ID })).data?.health?.status).toBe('OK');
      expect((await post(only, { documentId: UNKNOWN_ID })).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    });

    it('refuses an SSE subscription sent as text, and runs the same subscription by id', async () => {
      const client = sseClient(only);
      try {
        const refused = await firstSseResult(client, { query: 'subscription { health { status } }' }, (r) => Boolean(r.errors));
        expect(refused.errors?.[0]?.extensions?.code).toBe('TRUSTED_DOCUMENT_REQUIRED');
        const live = await firstSseResult(client, { documentId: documentIdOf(OnHealthDocument), variables: { intervalSeconds: 1 } }, (r) => Boolean(r.data || r.errors));
        expect(live.errors).toBeUndefined();
        expect(live.data?.health?.status).toBe('OK');
      } finally {
        client.dispose();
      }
    });

    it('runs the example scripts, which send ids over HTTP: examples/login.ts registers a user', async () => {
      const username = `example_${Date.now().toString(36)}`;
      const result = await example('examples/login.ts', ['--url', only.httpUrl, '--email', `${username}@example.test`, '--password', 'correct horse battery staple', '--username', username]);
      expect(result.stderr).toContain(`logged in as ${username}`);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    });

    it("Apollo's link: a codegen document runs by id; another one ends in TRUSTED_DOCUMENT_REQUIRED after the fallback", async () => {
      const { client, sent } = persistedApollo(only);
      expect((await client.query({ query: HealthDocument, fetchPolicy: 'network-only' })).data?.health.status).toBe('OK');
      sent.length = 0;
      const refused = await client.query({ query: apolloGql`query AdHocHealth { health { status } }`, fetchPolicy: 'network-only', errorPolicy: 'all' });
      expect(sent).toHaveLength(2);
      expect(JSON.stringify(refused.error)).toContain('TRUSTED_DOCUMENT_REQUIRED');
      client.stop();
    });
  });
  describe('over WebSocket (graphql-transport-ws)', () => {
    it('subscribes by documentId alone (no query in the payload) and refuses text under only', async () => {
      const postId = await createPost(app, author, { title: 'Over WS' });
      const socket = new RawSocket(app.wsUrl);
      await socket.init({ authorization: `Bearer ${author.token}` });
      socket.send({ id: 'byId', type: 'subscribe', payload: { documentId: documentIdOf(OnPostUpdatedDocument), variables: { postId } } });
      await waitForStreams(app, 'postUpdated', 1);
      await gqlOk(app, 'mutation($id: ID!) { updatePost(id: $id, input: { title: "Renamed over WS" }) { id } }', { id: postId }, author.token);
      const next = await socket.waitFor((f) => f.id === 'byId' && f.type === 'next');
      expect(JSON.stringify(next.payload)).toContain('Renamed over WS');
      socket.send({ id: 'unknown', type: 'subscribe', payload: { documentId: UNKNOWN_ID } });
      expect(JSON.stringify((await socket.waitFor((f) => f.id === 'unknown')).payload)).toContain('PERSISTED_QUERY_NOT_FOUND');
      socket.terminate();
      await waitForStreamsClosed(app, 'postUpdated');

      const strict = new RawSocket(only.wsUrl);
      await strict.init({ authorization: `Bearer ${author.token}` });
      strict.send({ id: 'text', type: 'subscribe', payload: { query: AD_HOC } });
      const refused = await strict.waitFor((f) => f.id === 'text');
      expect(refused.type).toBe('error');
      expect(JSON.stringify(refused.payload)).toContain('TRUSTED_DOCUMENT_REQUIRED');
      strict.send({ id: 'id', type: 'subscribe', payload: { documentId: HEALTH_ID } });
      expect((await strict.waitFor((f) => f.id === 'id' && f.type === 'next')).payload).toMatchObject({ data: { health: { status: 'OK' } } });
      strict.terminate();
    });
  });
});
