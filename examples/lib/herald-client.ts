/**
 * The few lines every example shares: command-line options, typed HTTP requests and typed
 * graphql-ws subscriptions, all with the codegen documents from `src/generated/graphql/`.
 * A schema change that breaks an example's operation fails `npx tsc -p .`.
 */
import { parseArgs } from 'node:util';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

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

/** One query or mutation over HTTP POST, typed by its document. Throws on GraphQL errors. */
export async function request<TData, TVars extends Record<string, unknown>>(
  options: ExampleOptions,
  document: TypedDocumentNode<TData, TVars>,
  ...[variables]: TVars extends Record<string, never> ? [] : [TVars]
): Promise<TData> {
  const response = await fetch(options.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables: variables ?? {} }),
  });
  const body = (await response.json()) as { data?: TData | null; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  if (!body.data) throw new Error(`HTTP ${response.status} without data`);
  return body.data;
}

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
  const events = client.iterate<TData>({ query: print(document), variables: variables ?? {} });
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
