/**
 * Document identifiers as the GraphQL-over-HTTP persisted-documents appendix spells them, shared by the
 * server (graphql/trusted-documents.ts) and Herald's own clients (CLI, examples), which read the id
 * codegen put on each typed document.
 */

const SHA256_PREFIXED = /^sha256:([0-9a-fA-F]{64})$/;
const BARE_SHA256 = /^[0-9a-fA-F]{64}$/;
/** `x-<name>:<payload>` (an application's own prefix) or a custom id without a colon (e.g. Relay's md5). */
const OTHER_ID = /^(?:x-[A-Za-z0-9._~-]+:)?[A-Za-z0-9._~-]+$/;
/** Longer ids are refused before any lookup: no identifier scheme needs more. */
const MAX_ID_LENGTH = 256;

/**
 * The canonical form of a document identifier, or null when `raw` is not one.
 *
 * `sha256:<hex>` and a bare 64-digit hex string (Apollo's `sha256Hash`, older codegen manifests) both
 * become `sha256:<lower-case hex>`; `x-…:…` prefixed and custom ids are kept as they are. Other prefixes
 * are reserved by the appendix and refused.
 */
export function canonicalDocumentId(raw: string): string | null {
  if (raw.length === 0 || raw.length > MAX_ID_LENGTH) return null;
  const prefixed = SHA256_PREFIXED.exec(raw);
  if (prefixed) return `sha256:${(prefixed[1] as string).toLowerCase()}`;
  if (BARE_SHA256.test(raw)) return `sha256:${raw.toLowerCase()}`;
  return OTHER_ID.test(raw) ? raw : null;
}

/** The lower-case hex digest of a `sha256:` id, or null for any other kind of id. */
export function sha256Payload(canonicalId: string): string | null {
  return canonicalId.startsWith('sha256:') ? canonicalId.slice('sha256:'.length) : null;
}

/**
 * The id codegen's client preset embedded in a typed document (`__meta__.hash`, see codegen.ts), for
 * clients that send `documentId` instead of the text. Throws when the document has none: it was not
 * generated with `persistedDocuments`, so the server cannot know it either.
 */
export function documentIdOf(document: object): string {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== 'string') throw new Error('This document carries no persisted-document id (__meta__.hash); regenerate with `npm run codegen`');
  return hash;
}

/**
 * A graphql-ws client `jsonMessageReplacer` for subscribe payloads that name their document by id.
 * graphql-ws's client refuses to send a payload whose `query` is not a string, so such a payload is
 * built as `{ query: '', documentId, variables, operationName }`; this drops the empty `query` while the
 * message is serialised, and the wire carries `{ documentId, variables, operationName }`.
 */
export function omitEmptyQueryOfIdPayload(this: unknown, key: string, value: unknown): unknown {
  if (key !== 'payload' || typeof value !== 'object' || value === null) return value;
  const { query, ...rest } = value as { query?: unknown; documentId?: unknown };
  return query === '' && typeof rest.documentId === 'string' ? rest : value;
}

/**
 * A graphql-ws subscribe payload that names its document by id; give the client
 * `jsonMessageReplacer: omitEmptyQueryOfIdPayload` so the empty `query` stays off the wire.
 */
export function idSubscribePayload(documentId: string, operationName: string | undefined, variables: Record<string, unknown>): { query: ''; documentId: string; operationName: string | undefined; variables: Record<string, unknown> } {
  return { query: '', documentId, operationName, variables };
}

/**
 * The server-side twin, the reviver transport/ws/graphql-transport-ws.ts parses messages with: graphql-ws's
 * message check refuses a subscribe payload without a string `query` (close 4400), so an id-only payload
 * `{ documentId, ... }` gets `query: ''` while the message is parsed; `TrustedDocuments.resolve()` reads
 * '' as no text. Other messages and payloads pass unchanged.
 */
export function addEmptyQueryToIdPayload(this: unknown, key: string, value: unknown): unknown {
  if (key !== 'payload' || typeof value !== 'object' || value === null) return value;
  const payload = value as { query?: unknown; documentId?: unknown };
  return payload.query === undefined && typeof payload.documentId === 'string' ? { ...payload, query: '' } : value;
}
