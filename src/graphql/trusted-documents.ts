import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import { canonicalDocumentId, sha256Payload } from '../shared/document-id.js';

/**
 * Trusted documents (persisted operations): GraphQL documents known before the server starts, from the
 * manifest codegen writes for Herald's own operations and from manifests of client builds. One instance,
 * loaded at start-up, answers every transport (HTTP, SSE, graphql-ws, the legacy protocol) through
 * `resolve()`, so a document that one door refuses is refused by all.
 *
 * - `only`:  every operation must be a trusted document, named by id (or sent as its exact text).
 * - `allow`: ids are resolved, and any other document text still runs (GraphiQL, ad-hoc clients).
 * - `off`:   ids are not understood (`PERSISTED_QUERY_NOT_SUPPORTED`, so Apollo's link falls back to
 *            sending the text and stops sending ids); no manifest is read.
 */
export type TrustedDocumentsMode = 'only' | 'allow' | 'off';

/** `extensions.code` of every error `resolve()` returns (README, "Trusted documents"). */
export const TrustedDocumentCode = {
  /** The id names no trusted document (Apollo's code: its link then resends with the text). */
  NotFound: 'PERSISTED_QUERY_NOT_FOUND',
  /** `TRUSTED_DOCUMENTS=off` and only an id was sent (Apollo's code: its link stops sending ids). */
  NotSupported: 'PERSISTED_QUERY_NOT_SUPPORTED',
  /** `TRUSTED_DOCUMENTS=only` and the request carries a document text that is not a trusted document. */
  Required: 'TRUSTED_DOCUMENT_REQUIRED',
  /** Malformed id, unsupported `persistedQuery.version`, id and text naming different documents, nothing sent. */
  BadRequest: 'BAD_REQUEST',
} as const;
export type TrustedDocumentCode = (typeof TrustedDocumentCode)[keyof typeof TrustedDocumentCode];

/** One trusted document. The object is also what `resolve()` returns for it (no allocation per request). */
export interface TrustedDocument {
  /** Canonical id (`sha256:<lower-case hex>` for hashes; custom ids as the manifest spells them). */
  readonly documentId: string;
  /** The document text exactly as in the manifest (its sha256 is the id). */
  readonly query: string;
  /** Parsed once at load; pass it to execution instead of parsing `query`. */
  readonly document: DocumentNode;
}

/** What an operation arrives with, on any transport; values are as received (unknown types are checked). */
export interface OperationParams {
  readonly query?: unknown;
  /** GraphQL-over-HTTP persisted documents: `sha256:<hex>` (a bare 64-digit hex is accepted too). */
  readonly documentId?: unknown;
  /** Apollo's `extensions.persistedQuery: { version: 1, sha256Hash }` is read from here. */
  readonly extensions?: unknown;
}

/**
 * The operation to run. `documentId` and `document` are set when it is a trusted document (named by id,
 * or sent as the exact text of one); both are null for an ad-hoc document, which must be parsed and
 * validated as usual.
 */
export interface ResolvedOperation {
  readonly query: string;
  readonly documentId: string | null;
  readonly document: DocumentNode | null;
}

/** A manifest that cannot be used; the message names the file and the entry. Start-up stops on it. */
export class TrustedDocumentsError extends Error {
  override name = 'TrustedDocumentsError';
}

/** A manifest's content and where it came from (for error messages). */
export interface Manifest {
  readonly source: string;
  readonly content: unknown;
}

/**
 * The manifest codegen writes for `operations/*.graphql` (codegen.ts, `npm run generate`). Resolved as
 * `<repo>/src/generated/...` from this file's URL: the path is the same from src/graphql/ (tsx), dist/graphql/
 * (`npm start`) and bench/.build/ (bundled bench peers), which all sit two levels below the repository root.
 */
export const GENERATED_MANIFEST = fileURLToPath(new URL('../../src/generated/graphql/persisted-documents.json', import.meta.url));

export class TrustedDocuments {
  readonly #byId = new Map<string, TrustedDocument>();
  readonly #byText = new Map<string, TrustedDocument>();
  readonly #parsed = new WeakSet<DocumentNode>();

  /** Use `loadTrustedDocuments()` (files) or `TrustedDocuments.fromManifests()` (content in hand). */
  private constructor(readonly mode: TrustedDocumentsMode) {}

  /** Builds the set from manifest contents; `off` ignores them. Throws TrustedDocumentsError for a bad entry. */
  static fromManifests(mode: TrustedDocumentsMode, manifests: readonly Manifest[]): TrustedDocuments {
    const trusted = new TrustedDocuments(mode);
    if (mode === 'off') return trusted;
    for (const manifest of manifests) {
      for (const [rawId, text] of manifestEntries(manifest)) trusted.#add(manifest.source, rawId, text);
    }
    return trusted;
  }

  /** How many trusted documents are known. */
  get size(): number {
    return this.#byId.size;
  }

  /** The trusted document with this id (any accepted spelling), if any. */
  get(id: string): TrustedDocument | undefined {
    const canonical = canonicalDocumentId(id);
    return canonical === null ? undefined : this.#byId.get(canonical);
  }

  /** The trusted document whose text is exactly `query`, if any (a transport's parse step uses it to skip parsing). */
  byText(query: string): TrustedDocument | undefined {
    return this.#byText.get(query);
  }

  /** True when `document` is the parsed node of a trusted document (its validation outcome may be reused). */
  isTrusted(document: DocumentNode): boolean {
    return this.#parsed.has(document);
  }

  /**
   * Decides what an operation runs. Pure and synchronous. Returns the operation, or a GraphQLError whose
   * `extensions.code` is one of `TrustedDocumentCode` (it carries no HTTP status: the transport picks one).
   *
   * The id comes from `documentId` or from Apollo's `extensions.persistedQuery.sha256Hash` (version 1);
   * an empty `query` counts as none.
   * A known id runs its document (a text sent with it must be that document's exact text). An unknown id
   * with a text (Apollo's retry) runs the text in `allow` mode; nothing is ever added to the trusted set.
   */
  resolve(params: OperationParams): ResolvedOperation | GraphQLError {
    // '' is no document: graphql-ws clients must send a string `query`, so an id-only subscribe may carry ''.
    const text = params.query === '' ? undefined : params.query;
    if (text !== undefined && text !== null && typeof text !== 'string') return error(TrustedDocumentCode.BadRequest, 'query must be a string');
    const id = requestedId(params);
    if (id instanceof GraphQLError) return id;

    if (this.mode === 'off') {
      if (typeof text === 'string') return adHoc(text);
      if (id !== null) return error(TrustedDocumentCode.NotSupported, 'PersistedQueryNotSupported', { reason: 'TRUSTED_DOCUMENTS=off: send the document text' });
      return error(TrustedDocumentCode.BadRequest, 'Must provide a query string or a documentId');
    }

    if (id !== null) {
      const known = this.#byId.get(id);
      if (known) {
        if (typeof text === 'string' && text !== known.query) {
          return error(TrustedDocumentCode.BadRequest, `The query sent is not the text of trusted document ${id}: send one of them`, { documentId: id });
        }
        return known;
      }
      // Apollo's message, matched by its persisted-queries link together with the code.
      if (typeof text !== 'string') return error(TrustedDocumentCode.NotFound, 'PersistedQueryNotFound', { documentId: id });
    }
    if (typeof text !== 'string') return error(TrustedDocumentCode.BadRequest, 'Must provide a query string or a documentId');

    const same = this.#byText.get(text);
    if (same) return same;
    if (this.mode === 'only') {
      return error(TrustedDocumentCode.Required, 'This server runs trusted documents only: send the documentId of a document from its manifest');
    }
    return adHoc(text);
  }

  #add(source: string, rawId: string, text: string): void {
    const id = canonicalDocumentId(rawId);
    if (id === null) throw new TrustedDocumentsError(`${source}: "${rawId}" is not a document id (sha256:<hex>, x-<name>:<id> or a custom id)`);
    const digest = sha256Payload(id);
    if (digest !== null && createHash('sha256').update(text).digest('hex') !== digest) {
      throw new TrustedDocumentsError(`${source}: the text of ${id} does not hash to its id (the manifest was edited, or written by another hash)`);
    }
    const existing = this.#byId.get(id);
    if (existing) {
      if (existing.query !== text) throw new TrustedDocumentsError(`${source}: ${id} is already a different document in another manifest`);
      return;
    }
    let document: DocumentNode;
    try {
      document = parse(text);
    } catch (cause) {
      throw new TrustedDocumentsError(`${source}: ${id} does not parse: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
    const entry: TrustedDocument = Object.freeze({ documentId: id, query: text, document });
    this.#byId.set(id, entry);
    // Two ids for one text (a custom id next to the hash): the first one names it.
    if (!this.#byText.has(text)) this.#byText.set(text, entry);
    this.#parsed.add(document);
  }
}

export interface TrustedDocumentsOptions {
  readonly mode: TrustedDocumentsMode;
  /** Manifests of client builds, read in addition to the generated one. */
  readonly manifestFiles: readonly string[];
  /** The manifest of Herald's own operations; `GENERATED_MANIFEST` unless a test names another. */
  readonly generatedManifest?: string;
}

/**
 * Reads the generated manifest and every extra manifest file once (call at start-up). `off` reads nothing.
 * Throws TrustedDocumentsError naming the file when one is missing, is not a manifest or has a bad entry.
 */
export function loadTrustedDocuments(options: TrustedDocumentsOptions): TrustedDocuments {
  if (options.mode === 'off') return TrustedDocuments.fromManifests('off', []);
  const files = [options.generatedManifest ?? GENERATED_MANIFEST, ...options.manifestFiles];
  return TrustedDocuments.fromManifests(options.mode, files.map(readManifest));
}

function readManifest(file: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const hint = file === GENERATED_MANIFEST ? ' (run `npm run generate`)' : '';
    throw new TrustedDocumentsError(`Cannot read trusted-documents manifest ${file}${hint}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  try {
    return { source: file, content: JSON.parse(text) as unknown };
  } catch {
    throw new TrustedDocumentsError(`${file}: not JSON`);
  }
}

/**
 * The (id, text) pairs of a manifest in either format clients write: codegen's client preset and Relay
 * (`{ "<id>": "<text>" }`), or Apollo's `generate-persisted-query-manifest`
 * (`{ format: "apollo-persisted-query-manifest", version: 1, operations: [{ id, body }] }`).
 */
function manifestEntries({ source, content }: Manifest): [string, string][] {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new TrustedDocumentsError(`${source}: expected a JSON object of id → document, or an Apollo persisted query manifest`);
  }
  const record = content as Record<string, unknown>;
  if (record.format === 'apollo-persisted-query-manifest') {
    if (record.version !== 1 || !Array.isArray(record.operations)) throw new TrustedDocumentsError(`${source}: unsupported Apollo manifest (expected version 1 with operations)`);
    return record.operations.map((operation: unknown, index) => {
      const { id, body } = (operation ?? {}) as { id?: unknown; body?: unknown };
      if (typeof id !== 'string' || typeof body !== 'string') throw new TrustedDocumentsError(`${source}: operations[${index}] needs a string id and body`);
      return [id, body];
    });
  }
  return Object.entries(record).map(([id, text]) => {
    if (typeof text !== 'string') throw new TrustedDocumentsError(`${source}: the value of "${id}" is not a document text`);
    return [id, text];
  });
}

/** The canonical id the request names (null: none), or a BAD_REQUEST error for a malformed one. */
function requestedId(params: OperationParams): string | null | GraphQLError {
  let fromDocumentId: string | null = null;
  if (params.documentId !== undefined && params.documentId !== null) {
    if (typeof params.documentId !== 'string') return error(TrustedDocumentCode.BadRequest, 'documentId must be a string');
    fromDocumentId = canonicalDocumentId(params.documentId);
    if (fromDocumentId === null) return error(TrustedDocumentCode.BadRequest, 'documentId is not a document identifier (expected sha256:<64 hex digits>)');
  }
  const persisted = typeof params.extensions === 'object' && params.extensions !== null ? (params.extensions as { persistedQuery?: unknown }).persistedQuery : undefined;
  if (persisted === undefined || persisted === null) return fromDocumentId;
  const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1) return error(TrustedDocumentCode.BadRequest, 'Unsupported persistedQuery version (expected 1)');
  const fromApollo = typeof sha256Hash === 'string' ? canonicalDocumentId(sha256Hash) : null;
  if (fromApollo === null || sha256Payload(fromApollo) === null) return error(TrustedDocumentCode.BadRequest, 'extensions.persistedQuery.sha256Hash must be 64 hex digits');
  if (fromDocumentId !== null && fromDocumentId !== fromApollo) {
    return error(TrustedDocumentCode.BadRequest, 'documentId and extensions.persistedQuery.sha256Hash name different documents');
  }
  return fromApollo;
}

function adHoc(query: string): ResolvedOperation {
  return { query, documentId: null, document: null };
}

function error(code: TrustedDocumentCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}
