import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { TrustedDocumentCode, type TrustedDocuments } from '../trusted-documents.js';

/**
 * Trusted documents in Yoga's pipeline (HTTP GET/POST and SSE):
 *
 * - params: `documentId` (POST body, or GET query string) and Apollo's `extensions.persistedQuery` are
 *   resolved by `TrustedDocuments.resolve()`, so Yoga sees an ordinary `{ query, variables, ... }`; its
 *   refusals become HTTP errors here. A request with neither text nor id is left to Yoga's own answer.
 * - parse: a trusted document's text yields the node parsed at start-up (the WebSocket transports get
 *   this too when they parse through `getEnveloped`), so it is never parsed per request.
 * - validate: nothing to do here. Yoga's validation cache (`parserAndValidationCache`, on in yoga.ts)
 *   keeps each result by schema, rule names and document node, and a trusted document's node is one
 *   object for the life of the process: it is validated once, with graphql's rules and the query limits,
 *   and answered from that cache after. Safe because the document, the schema and the limits never change
 *   while the process runs, and no rule depends on the request.
 */
export function trustedDocumentsPlugin(trusted: TrustedDocuments): Plugin<Record<string, unknown>> {
  return {
    onParams({ params, request, setParams }) {
      const raw = params as typeof params & { documentId?: unknown };
      const documentId = raw.documentId ?? (request.method === 'GET' ? documentIdFromUrl(request.url) : undefined);
      const extensions = raw.extensions as { persistedQuery?: unknown } | undefined;
      if (typeof raw.query !== 'string' && documentId == null && extensions?.persistedQuery == null) return;
      const resolved = trusted.resolve({ query: raw.query, documentId, extensions });
      if (resolved instanceof GraphQLError) throw withHttpStatus(resolved, request.method);
      // Without `documentId`: Yoga refuses parameters it does not know.
      setParams({ query: resolved.query, variables: raw.variables, operationName: raw.operationName, extensions: raw.extensions });
    },
    onParse({ params, setParsedDocument }) {
      if (typeof params.source !== 'string') return;
      const known = trusted.byText(params.source);
      if (known) setParsedDocument(known.document);
    },
  };
}

/** The GET parameter, read only when the URL can hold it (Yoga's GET parser keeps only the standard four). */
function documentIdFromUrl(url: string): string | undefined {
  if (!url.includes('documentId=')) return undefined;
  return new URL(url).searchParams.get('documentId') ?? undefined;
}

/**
 * NOT_FOUND and NOT_SUPPORTED answer 200 as Apollo Server does (Apollo's link retries on them), and a GET
 * one must not be cached: a cached miss would outlive the deployment that adds the document. The other
 * refusals are request errors as the GraphQL-over-HTTP spec has them (`spec`): 400 for
 * `application/graphql-response+json`, 200 for `application/json` and SSE (where the error arrives as the
 * stream's one `next` event, as Yoga's parse and validation errors do).
 */
function withHttpStatus(error: GraphQLError, method: string): GraphQLError {
  const code = error.extensions.code;
  const soft = code === TrustedDocumentCode.NotFound || code === TrustedDocumentCode.NotSupported;
  const http = !soft ? { spec: true, status: 400 } : method === 'GET' ? { status: 200, headers: { 'cache-control': 'private, no-cache, must-revalidate' } } : { status: 200 };
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http } });
}
