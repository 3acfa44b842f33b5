import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLError, Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createClient, parseMessage } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import * as generated from '../../src/generated/graphql/graphql.js';
import { HealthDocument, OnHealthDocument } from '../../src/generated/graphql/graphql.js';
import { addEmptyQueryToIdPayload, canonicalDocumentId, documentIdOf, idSubscribePayload, omitEmptyQueryOfIdPayload } from '../../src/shared/document-id.js';
import {
  GENERATED_MANIFEST,
  TrustedDocumentCode,
  TrustedDocuments,
  TrustedDocumentsError,
  loadTrustedDocuments,
  type ResolvedOperation,
  type TrustedDocumentsMode,
} from '../../src/graphql/trusted-documents.js';
import { ConfigError, loadConfig } from '../../src/shared/config.js';

const HELLO = 'query Hello { hello }';
const HELLO_HEX = createHash('sha256').update(HELLO).digest('hex');
const HELLO_ID = `sha256:${HELLO_HEX}`;
const UNKNOWN_ID = `sha256:${'0'.repeat(64)}`;

function trusted(mode: TrustedDocumentsMode, extra: Record<string, string> = {}): TrustedDocuments {
  return TrustedDocuments.fromManifests(mode, [{ source: 'test.json', content: { [HELLO_ID]: HELLO, ...extra } }]);
}

function ok(result: ResolvedOperation | GraphQLError): ResolvedOperation {
  if (result instanceof GraphQLError) throw new Error(`expected an operation, got ${String(result.extensions.code)}: ${result.message}`);
  return result;
}

function codeOf(result: ResolvedOperation | GraphQLError): unknown {
  if (!(result instanceof GraphQLError)) throw new Error(`expected an error, got the operation ${result.query}`);
  return result.extensions.code;
}

const apollo = (sha256Hash: unknown, version: unknown = 1) => ({ persistedQuery: { version, sha256Hash } });

describe('document ids', () => {
  it.each([
    [`sha256:${HELLO_HEX.toUpperCase()}`, HELLO_ID],
    [HELLO_HEX, HELLO_ID],
    ['x-myapp:checkout-v2', 'x-myapp:checkout-v2'],
    ['d41d8cd98f00b204e9800998ecf8427e', 'd41d8cd98f00b204e9800998ecf8427e'],
  ])('reads %s as %s', (raw, canonical) => {
    expect(canonicalDocumentId(raw)).toBe(canonical);
  });

  it.each(['', 'sha256:abc', 'md5:d41d8cd98f00b204e9800998ecf8427e', 'has space', 'x'.repeat(257)])('refuses %j', (raw) => {
    expect(canonicalDocumentId(raw)).toBeNull();
  });

  it("lets graphql-ws's client send a subscribe payload with documentId and no query", async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'graphql-transport-ws' });
    const subscribe = new Promise<Record<string, unknown>>((resolve) => {
      server.on('connection', (socket) => {
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string; payload?: Record<string, unknown> };
          if (message.type === 'connection_init') socket.send(JSON.stringify({ type: 'connection_ack' }));
          if (message.type === 'subscribe') resolve(message.payload ?? {});
        });
      });
    });
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const client = createClient({ url: `ws://127.0.0.1:${port}`, webSocketImpl: WebSocket, retryAttempts: 0, jsonMessageReplacer: omitEmptyQueryOfIdPayload });
    try {
      const id = documentIdOf(OnHealthDocument);
      client.subscribe(idSubscribePayload(id, 'OnHealth', { intervalSeconds: 1, nested: { query: '' } }), { next: () => undefined, error: () => undefined, complete: () => undefined });
      expect(await subscribe).toEqual({ documentId: id, operationName: 'OnHealth', variables: { intervalSeconds: 1, nested: { query: '' } } });
    } finally {
      await client.dispose();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("lets graphql-ws's server parser accept that payload (reviver), leaving other messages alone", () => {
    const id = documentIdOf(OnHealthDocument);
    const wire = JSON.stringify({ id: '1', type: 'subscribe', payload: { documentId: id, variables: { intervalSeconds: 1 } } });
    expect(() => parseMessage(wire)).toThrow(/'query' property to be a string/);
    expect(parseMessage(wire, addEmptyQueryToIdPayload)).toEqual({ id: '1', type: 'subscribe', payload: { query: '', documentId: id, variables: { intervalSeconds: 1 } } });
    const text = { id: '2', type: 'subscribe', payload: { query: '{ health { status } }' } };
    expect(parseMessage(JSON.stringify(text), addEmptyQueryToIdPayload)).toEqual(text);
    expect(() => parseMessage(JSON.stringify({ id: '3', type: 'subscribe', payload: {} }), addEmptyQueryToIdPayload)).toThrow(/'query'/);
  });

  it('reads the id codegen embedded in a typed document, and refuses a document without one', () => {
    expect(documentIdOf(HealthDocument)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(() => documentIdOf({ kind: Kind.DOCUMENT, definitions: [] })).toThrow(/no persisted-document id/);
  });
});

describe('TrustedDocuments.resolve', () => {
  it('runs a known document named by documentId, pre-parsed, as the same object every time', () => {
    const set = trusted('allow');
    const first = ok(set.resolve({ documentId: HELLO_ID }));
    expect(first).toMatchObject({ query: HELLO, documentId: HELLO_ID });
    expect(first.document?.kind).toBe(Kind.DOCUMENT);
    expect(set.isTrusted(first.document!)).toBe(true);
    expect(set.resolve({ documentId: HELLO_ID })).toBe(first);
  });

  it("treats an empty query as none (graphql-ws clients must send a string), so an id alone or with '' resolves", () => {
    const set = trusted('only');
    expect(ok(set.resolve({ query: '', documentId: HELLO_ID })).documentId).toBe(HELLO_ID);
    expect(codeOf(set.resolve({ query: '', documentId: UNKNOWN_ID }))).toBe(TrustedDocumentCode.NotFound);
    expect(codeOf(set.resolve({ query: '' }))).toBe(TrustedDocumentCode.BadRequest);
  });

  it("accepts Apollo's extensions.persistedQuery (bare or prefixed hash) and a bare hex documentId", () => {
    const set = trusted('only');
    expect(ok(set.resolve({ extensions: apollo(HELLO_HEX) })).documentId).toBe(HELLO_ID);
    expect(ok(set.resolve({ extensions: apollo(HELLO_ID) })).documentId).toBe(HELLO_ID);
    expect(ok(set.resolve({ documentId: HELLO_HEX })).documentId).toBe(HELLO_ID);
    expect(ok(set.resolve({ documentId: HELLO_ID, extensions: apollo(HELLO_HEX) })).documentId).toBe(HELLO_ID);
  });

  it('answers an unknown id alone with PERSISTED_QUERY_NOT_FOUND in allow and only modes', () => {
    for (const mode of ['allow', 'only'] as const) {
      const result = trusted(mode).resolve({ documentId: UNKNOWN_ID });
      expect(codeOf(result)).toBe(TrustedDocumentCode.NotFound);
      // Apollo's link matches this message as well as the code.
      expect((result as GraphQLError).message).toBe('PersistedQueryNotFound');
      expect(codeOf(trusted(mode).resolve({ extensions: apollo('f'.repeat(64)) }))).toBe(TrustedDocumentCode.NotFound);
    }
  });

  it("runs Apollo's retry (unknown hash + text) as an ad-hoc document in allow mode, without trusting it", () => {
    const set = trusted('allow');
    const text = '{ hello }';
    const result = ok(set.resolve({ query: text, extensions: apollo('f'.repeat(64)) }));
    expect(result).toEqual({ query: text, documentId: null, document: null });
    expect(codeOf(set.resolve({ extensions: apollo('f'.repeat(64)) }))).toBe(TrustedDocumentCode.NotFound);
  });

  it('runs any text in allow mode; text equal to a trusted document is that document', () => {
    const set = trusted('allow');
    expect(ok(set.resolve({ query: '{ hello }' }))).toEqual({ query: '{ hello }', documentId: null, document: null });
    expect(ok(set.resolve({ query: HELLO })).documentId).toBe(HELLO_ID);
  });

  it('refuses every other text in only mode with TRUSTED_DOCUMENT_REQUIRED, Apollo retry included', () => {
    const set = trusted('only');
    expect(codeOf(set.resolve({ query: '{ hello }' }))).toBe(TrustedDocumentCode.Required);
    expect(codeOf(set.resolve({ query: '{ hello }', extensions: apollo('f'.repeat(64)) }))).toBe(TrustedDocumentCode.Required);
    expect(ok(set.resolve({ query: HELLO })).documentId).toBe(HELLO_ID);
  });

  it('refuses a known id sent with another text (BAD_REQUEST), and accepts it with its own text', () => {
    const set = trusted('allow');
    expect(codeOf(set.resolve({ documentId: HELLO_ID, query: '{ hello }' }))).toBe(TrustedDocumentCode.BadRequest);
    expect(ok(set.resolve({ documentId: HELLO_ID, query: HELLO })).documentId).toBe(HELLO_ID);
  });

  it.each([
    ['a documentId that is not a string', { documentId: 42 }],
    ['a malformed documentId', { documentId: 'sha256:xyz' }],
    ['persistedQuery version 2', { extensions: apollo(HELLO_HEX, 2) }],
    ['a sha256Hash that is not a hash', { extensions: apollo('abc') }],
    ['documentId and sha256Hash naming different documents', { documentId: HELLO_ID, extensions: apollo('f'.repeat(64)) }],
    ['a query that is not a string', { query: { kind: 'Document' } }],
    ['nothing at all', {}],
  ])('refuses %s with BAD_REQUEST', (_label, params) => {
    expect(codeOf(trusted('allow').resolve(params))).toBe(TrustedDocumentCode.BadRequest);
  });

  it('off: runs the text and ignores ids; an id alone is PERSISTED_QUERY_NOT_SUPPORTED', () => {
    const set = trusted('off');
    expect(set.size).toBe(0);
    expect(codeOf(set.resolve({ documentId: HELLO_ID }))).toBe(TrustedDocumentCode.NotSupported);
    expect((set.resolve({ extensions: apollo(HELLO_HEX) }) as GraphQLError).message).toBe('PersistedQueryNotSupported');
    expect(ok(set.resolve({ query: '{ hello }', extensions: apollo(HELLO_HEX) }))).toEqual({ query: '{ hello }', documentId: null, document: null });
    expect(ok(set.resolve({ query: HELLO })).document).toBeNull();
  });
});

describe('manifests', () => {
  it("reads Apollo's persisted query manifest format", () => {
    const set = TrustedDocuments.fromManifests('only', [
      { source: 'apollo.json', content: { format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: HELLO_HEX, name: 'Hello', type: 'query', body: HELLO }] } },
    ]);
    expect(ok(set.resolve({ extensions: apollo(HELLO_HEX) })).query).toBe(HELLO);
  });

  it('keeps custom ids (Relay-style) without checking them against a hash', () => {
    const set = trusted('only', { 'x-web:hello-2': '{ hello }' });
    expect(ok(set.resolve({ documentId: 'x-web:hello-2' })).query).toBe('{ hello }');
    expect(set.get(HELLO_HEX)?.documentId).toBe(HELLO_ID);
  });

  it.each([
    ['a hash that is not the text’s', { [UNKNOWN_ID]: HELLO }, /test\.json: the text of sha256:0+ does not hash to its id/],
    ['an entry that does not parse', { 'x-a:broken': 'query {' }, /test\.json: x-a:broken does not parse/],
    ['a key that is no id', { 'md5:abc': HELLO }, /"md5:abc" is not a document id/],
    ['a value that is no text', { 'x-a:n': 7 }, /the value of "x-a:n" is not a document text/],
  ])('refuses a manifest with %s, naming the file', (_label, content, message) => {
    expect(() => TrustedDocuments.fromManifests('allow', [{ source: 'test.json', content }])).toThrow(message);
  });

  it('refuses one id for two different texts across manifests', () => {
    expect(() =>
      TrustedDocuments.fromManifests('allow', [
        { source: 'a.json', content: { 'x-a:one': '{ hello }' } },
        { source: 'b.json', content: { 'x-a:one': '{ other }' } },
      ]),
    ).toThrow(/b\.json: x-a:one is already a different document/);
  });

  it('loads the generated manifest, which holds every typed document codegen emits, plus extra files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-manifest-'));
    const extra = join(dir, 'web-client.json');
    writeFileSync(extra, JSON.stringify({ [HELLO_ID]: HELLO }));
    const set = loadTrustedDocuments({ mode: 'only', manifestFiles: [extra] });
    const typed = Object.entries(generated).filter(([name, value]) => name.endsWith('Document') && typeof value === 'object');
    expect(typed.length).toBeGreaterThan(20);
    for (const [, document] of typed) expect(set.get(documentIdOf(document))).toBeDefined();
    expect(ok(set.resolve({ documentId: documentIdOf(OnHealthDocument) })).query).toMatch(/^subscription OnHealth/);
    expect(ok(set.resolve({ documentId: HELLO_ID })).query).toBe(HELLO);
    expect(set.size).toBe(typed.length + 1);
  });

  it('fails loudly for a missing manifest file, and reads nothing when off', () => {
    expect(() => loadTrustedDocuments({ mode: 'allow', manifestFiles: ['/nonexistent/manifest.json'] })).toThrow(TrustedDocumentsError);
    expect(() => loadTrustedDocuments({ mode: 'allow', manifestFiles: [], generatedManifest: '/nonexistent/generated.json' })).toThrow(/npm run generate|Cannot read/);
    expect(loadTrustedDocuments({ mode: 'off', manifestFiles: ['/nonexistent/manifest.json'], generatedManifest: '/nonexistent' }).size).toBe(0);
    expect(GENERATED_MANIFEST).toMatch(/src[/\\]generated[/\\]graphql[/\\]persisted-documents\.json$/);
  });
});

describe('configuration', () => {
  it('defaults to allow with only the generated manifest', () => {
    expect(loadConfig({}).trustedDocuments).toEqual({ mode: 'allow', manifestFiles: [] });
  });

  it('reads the mode and a comma-separated list of existing manifest files', () => {
    const config = loadConfig({ TRUSTED_DOCUMENTS: 'only', TRUSTED_DOCUMENTS_MANIFEST: `${GENERATED_MANIFEST}, ${GENERATED_MANIFEST}` });
    expect(config.trustedDocuments).toEqual({ mode: 'only', manifestFiles: [GENERATED_MANIFEST, GENERATED_MANIFEST] });
  });

  it.each([
    ['TRUSTED_DOCUMENTS', 'strict', /^Invalid configuration: TRUSTED_DOCUMENTS="strict": expected only, allow or off$/],
    ['TRUSTED_DOCUMENTS_MANIFEST', '/nonexistent/a.json', /^Invalid configuration: TRUSTED_DOCUMENTS_MANIFEST="\/nonexistent\/a.json": no such file: \/nonexistent\/a.json$/],
  ])('stops with one line naming %s when it is %s', (variable, value, message) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(message);
  });
});
