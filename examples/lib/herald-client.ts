/**
 * The few lines every example shares: command-line options, typed HTTP requests and typed
 * graphql-ws subscriptions, all with the codegen documents from `src/generated/graphql/`.
 * A schema change that breaks an example's operation fails `npx tsc -p .`.
 *
 * Requests go by trusted-document id (`documentId`, README "Trusted documents"), falling back to the
 * text when the server does not know the id. Subscriptions send the text unless
 * HERALD_WS_DOCUMENT_IDS=true: ids over WebSocket need a server whose WebSocket side resolves them.
 */
import { parseArgs } from 'node:util';
import { getOperationAST, print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { documentIdOf, idSubscribePayload, omitEmptyQueryOfIdPayload } from '../../src/shared/document-id.js';

export interface ExampleOptions {
  /** HTTP URL of /graphql; the WebSocket URL is derived from it. */
  readonly url: string;
  readonly token: string | null;
  readonly values: Readonly<Record<string, string | undefined>>;
}

/** Parses `--url`, `--token` and the example's own string options (`--post-id`, `--count` ...). */
export function exampleOptions(extra: readonly string[] = []): ExampleOptions {
  const options: Record<string, { type: 'string' }> = {};
  for (const name of ['url', 'token', ...extra]) options[name] = { type: 'string' };
  const values = parseArgs({ options, strict: true }).values as Record<string, string | undefined>;
  return {
    url: values.url ?? process.env.HERALD_URL ?? 'http://localhost:4000/graphql',
    token: values.token ?? process.env.HERALD_TOKEN ?? null,
    values,
  };
}

/** The value of a required option, or exit with a usage line. */
export function required(options: ExampleOptions, name: string, usage: string): string {
  const value = options.values[name];
  if (typeof value === 'string' && value) return value;
  console.error(`missing --${name}\nusage: ${usage}`);
  process.exit(2);
}

export class GraphQLRequestError extends Error {
  constructor(readonly errors: readonly { message: string; extensions?: { code?: string } }[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }
}

type ResponseBody<TData> = { data?: TData | null; errors?: { message: string; extensions?: { code?: string } }[] };

/** Codes after which the same request is sent again with the text (the id is unknown, or ids are off). */
const RESEND_WITH_TEXT = new Set(['PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED']);

/**
 * One query or mutation over HTTP POST, typed by its document, sent by its trusted-document id; the
 * text follows only if the server answers that it does not know the id. Throws on GraphQL errors.
 */
export async function request<TData, TVars extends Record<string, unknown>>(
  options: ExampleOptions,
  document: TypedDocumentNode<TData, TVars>,
  ...[variables]: TVars extends Record<string, never> ? [] : [TVars]
): Promise<TData> {
  const post = async (body: Record<string, unknown>): Promise<{ status: number; body: ResponseBody<TData> }> => {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      body: JSON.stringify({ ...body, variables: variables ?? {} }),
    });
    return { status: response.status, body: (await response.json()) as ResponseBody<TData> };
  };
  let result = await post({ documentId: documentIdOf(document) });
  if (result.body.errors?.some((e) => RESEND_WITH_TEXT.has(e.extensions?.code ?? ''))) result = await post({ query: print(document) });
  if (result.body.errors?.length) throw new GraphQLRequestError(result.body.errors);
  if (!result.body.data) throw new Error(`HTTP ${result.status} without data`);
  return result.body.data;
}

/** HERALD_WS_DOCUMENT_IDS=true: subscribe by `documentId` (no `query`) instead of sending the text. */
const wsDocumentIds = ['1', 'true', 'yes'].includes(process.env.HERALD_WS_DOCUMENT_IDS ?? '');

/**
 * A graphql-ws client whose `connectionParams` is a function: every (re)connect sends the current
 * token. Close codes worth knowing are logged (see the README, "Connecting a client").
 */
export function connect(options: ExampleOptions): Client {
  return createClient({
    url: options.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: () => (options.token ? { authorization: `Bearer ${options.token}` } : {}),
    retryAttempts: 3,
    ...(wsDocumentIds ? { jsonMessageReplacer: omitEmptyQueryOfIdPayload } : {}),
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        if (code !== 1000) console.error(`socket closed: ${code} ${reason}`);
      },
    },
  });
}

/** Iterates a typed subscription; errors from the server are thrown as GraphQLRequestError. */
export async function* subscribe<TData, TVars extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<TData, TVars>,
  ...[variables]: TVars extends Record<string, never> ? [] : [TVars]
): AsyncGenerator<TData> {
  const payload = wsDocumentIds
    ? idSubscribePayload(documentIdOf(document), getOperationAST(document)?.name?.value, variables ?? {})
    : { query: print(document), variables: variables ?? {} };
  const events = client.iterate<TData>(payload);
  for await (const result of events) {
    if (result.errors?.length) throw new GraphQLRequestError(result.errors as GraphQLRequestError['errors']);
    if (result.data) yield result.data;
  }
}

/** Prints one event as a timestamped JSON line. */
export function show(label: string, value: unknown): void {
  console.log(`${new Date().toISOString()} ${label} ${JSON.stringify(value)}`);
}

/** Runs `main`, printing a coded error and exiting non-zero on failure. */
export function run(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
