/**
 * `npm run bench:trusted [-- --requests 3000 --rounds 3 --concurrency 8] [--pipeline-only]`
 *
 * What a trusted document saves: server CPU per HTTP query and per SSE subscribe when the client sends
 * a `documentId`, against the same operation sent as text. Text is measured twice: repeated verbatim
 * (Yoga's parse/validate cache answers after the first request) and with a per-request comment, so
 * every request is a document the server has not seen (parse and validation run each time, as for a
 * cold cache or clients that vary their text).
 *
 * Herald runs as the bench peer does (its own process, pinned to core 0, PostgreSQL when it answers,
 * else embedded PGlite); this harness is pinned to core 1. CPU is utime+stime of the server from /proc
 * over each batch, divided by the requests in it, after a forced full GC. Variants are interleaved over
 * `--rounds` rounds, each round in a different order.
 *
 * First, in this process: what the steps a known document skips cost on their own, through the same
 * envelop pipeline every transport uses (`yoga.getEnveloped()`: parse with the token limit, validate
 * with graphql's rules and the query limits), for a new text, a repeated text and a trusted document.
 */
import { GraphQLError, print, type DocumentNode } from 'graphql';
import { pino } from 'pino';
import { GetPostDocument, OnPostUpdatedDocument } from '../src/generated/graphql/graphql.js';
import { documentIdOf } from '../src/shared/document-id.js';
import { schema } from '../src/graphql/schema.js';
import { queryLimitPlugins } from '../src/graphql/plugins/query-limits.js';
import { loadTrustedDocuments } from '../src/graphql/trusted-documents.js';
import { loadConfig } from '../src/shared/config.js';
import { createHeraldYoga } from '../src/transport/http/yoga.js';
import { createBenchDatabase, type Database } from './lib/backends.js';
import { startPeer, type Peer } from './lib/peers.js';
import { killAll, LOAD_CORE, PINNING, pinSelf, sleep } from './lib/proc.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a positive whole number`);
  return value;
}

const REQUESTS = option('requests', 3000);
const ROUNDS = option('rounds', 3);
const CONCURRENCY = option('concurrency', 8);
const WARM_UP = 300;
const log = (line: string) => process.stdout.write(`${line}\n`);

type Body = (i: number) => Record<string, unknown>;

interface Variant {
  readonly label: string;
  readonly body: Body;
}

interface Operation {
  readonly name: string;
  readonly sse: boolean;
  readonly variants: readonly Variant[];
}

/** Three ways of sending the same operation: by id, as the text every time, as a text never seen before. */
function variantsOf(documentId: string, text: string, variables: Record<string, unknown>): Variant[] {
  return [
    { label: 'documentId', body: () => ({ documentId, variables }) },
    { label: 'text (repeated: Yoga cache hit)', body: () => ({ query: text, variables }) },
    { label: 'text (new each time: parse + validate)', body: (i) => ({ query: `${text}\n# request ${i}`, variables }) },
  ];
}

async function httpRequest(url: string, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify(body) });
  const result = (await response.json()) as { data?: unknown; errors?: unknown[] };
  if (result.errors?.length || !result.data) throw new Error(`query failed: ${JSON.stringify(result).slice(0, 300)}`);
}

/**
 * One SSE subscribe: Yoga answers with headers once `subscribe()` has set the subscription up (parse,
 * validate, authorize, topic subscription); the client then hangs up, which ends it.
 */
async function sseSubscribe(url: string, body: Record<string, unknown>): Promise<void> {
  const controller = new AbortController();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(body), signal: controller.signal });
  if (response.status !== 200 || !response.headers.get('content-type')?.includes('text/event-stream')) throw new Error(`subscribe failed: HTTP ${response.status}`);
  controller.abort();
  await response.body?.cancel().catch(() => undefined);
}

/**
 * Runs `count` requests, `CONCURRENCY` at a time; resolves with the server CPU µs they cost. A full GC of
 * the server first (SIGUSR2, bench/peers/common.ts), outside the measurement, so no batch pays for the
 * garbage of the one before (the new-text variant leaves the most).
 */
async function batch(peer: Peer, url: string, operation: Operation, variant: Variant, count: number, offset: number): Promise<number> {
  let next = 0;
  const send = operation.sse ? sseSubscribe : httpRequest;
  peer.children[0]!.process.kill('SIGUSR2');
  await sleep(300);
  const before = peer.cpu();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = offset + next++;
        await send(url, variant.body(i));
      }
    }),
  );
  return peer.cpu() - before;
}

/** CPU µs per call of `step`, over `count` calls after a warm-up. */
function cpuPerCall(count: number, step: (i: number) => void): number {
  for (let i = 0; i < 500; i++) step(-1 - i);
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) step(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

/** Parse + validate through Herald's pipeline, as a transport runs them before executing an operation. */
function pipelineCosts(): void {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const trusted = loadTrustedDocuments(config.trustedDocuments);
  const yoga = createHeraldYoga({ schema, config, logger: pino({ level: 'silent' }), context: async () => ({}) as never, plugins: queryLimitPlugins(config.graphqlLimits), trustedDocuments: trusted });
  const prepare = (text: string, document?: DocumentNode) => {
    const { parse, validate, schema: enveloped } = yoga.getEnveloped({});
    const errors = validate(enveloped, document ?? parse(text));
    if (errors.length) throw errors[0];
  };
  log('In-process: parse + validate through the pipeline (CPU µs per operation)');
  log('| document | new text | repeated text (Yoga cache) | trusted document by id |');
  log('| --- | ---: | ---: | ---: |');
  for (const document of [GetPostDocument, OnPostUpdatedDocument]) {
    const text = print(document);
    const documentId = documentIdOf(document);
    const fresh = cpuPerCall(REQUESTS, (i) => prepare(`${text}\n# ${i}`));
    const repeated = cpuPerCall(REQUESTS, () => prepare(text));
    const byId = cpuPerCall(REQUESTS, () => {
      const resolved = trusted.resolve({ documentId });
      if (resolved instanceof GraphQLError) throw resolved;
      prepare(resolved.query, resolved.document ?? undefined);
    });
    const name = document === GetPostDocument ? 'GetPost' : 'OnPostUpdated';
    log(`| ${name} | ${fresh.toFixed(1)} | ${repeated.toFixed(1)} | ${byId.toFixed(1)} |`);
  }
  log('');
}

async function main(): Promise<void> {
  pinSelf(LOAD_CORE);
  pipelineCosts();
  if (process.argv.includes('--pipeline-only')) return;
  let db: Database | null = null;
  let peer: Peer | null = null;
  try {
    db = await createBenchDatabase();
    log(`database: ${db.label}; server pinned: ${PINNING ? 'core 0 (harness core 1)' : 'no (taskset unavailable)'}`);
    peer = await startPeer('herald', { db, redis: null });
    const url = `${new URL(peer.wsUrl.replace(/^ws/, 'http')).origin}/graphql`;
    const [postId] = await peer.topics(1);
    const operations: Operation[] = [
      { name: 'HTTP query GetPost(id)', sse: false, variants: variantsOf(documentIdOf(GetPostDocument), print(GetPostDocument), { id: postId }) },
      { name: 'SSE subscribe OnPostUpdated(postId)', sse: true, variants: variantsOf(documentIdOf(OnPostUpdatedDocument), print(OnPostUpdatedDocument), { postId }) },
    ];
    const perRound = Math.ceil(REQUESTS / ROUNDS);
    log(`${perRound * ROUNDS} requests per variant (${ROUNDS} interleaved rounds, ${CONCURRENCY} at a time, ${WARM_UP} warm-up each)\n`);
    let offset = 0;
    for (const operation of operations) {
      for (const variant of operation.variants) {
        await batch(peer, url, operation, variant, WARM_UP, offset);
        offset += WARM_UP;
      }
      const cpu = new Map<Variant, number>();
      for (let round = 0; round < ROUNDS; round++) {
        // A different variant goes first each round, so drift over the run is shared out.
        const order = operation.variants.map((_, i) => operation.variants[(i + round) % operation.variants.length]!);
        for (const variant of order) {
          cpu.set(variant, (cpu.get(variant) ?? 0) + (await batch(peer, url, operation, variant, perRound, offset)));
          offset += perRound;
        }
      }
      const byId = (cpu.get(operation.variants[0]!) ?? 0) / (perRound * ROUNDS);
      log(`${operation.name}`);
      log('| sent as | server CPU µs / request | documentId ÷ this |');
      log('| --- | ---: | ---: |');
      for (const variant of operation.variants) {
        const micros = (cpu.get(variant) ?? 0) / (perRound * ROUNDS);
        log(`| ${variant.label} | ${micros.toFixed(0)} | ${(byId / micros).toFixed(2)} |`);
      }
      log('');
    }
  } finally {
    await peer?.stop().catch(() => undefined);
    await db?.drop().catch(() => undefined);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    killAll();
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
