/**
 * Starts one peer as its own process and gives the scenarios one face for all of them: where clients
 * connect, what they subscribe with, how events are triggered, and the CPU/RSS of the server side.
 */
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { COMMENT_SUBSCRIPTION } from '../peers/common.js';
import type { Database, RedisServer } from './backends.js';
import { tempDataDir } from './backends.js';
import { cpuMicros, rssKB, SERVER_CORE, sleep, spawnReady, type Child } from './proc.js';
import { HeraldApi } from './herald-api.js';
import type { LoadProtocol } from '../load/protocol.js';

export type PeerKind = 'floor' | 'floor-prepared' | 'apollo' | 'mercurius' | 'herald' | 'herald-redis' | 'herald-legacy';

export const PEER_LABELS: Record<PeerKind, string> = {
  floor: 'raw ws (floor)',
  'floor-prepared': 'raw ws, prepared frame (floor)',
  apollo: 'Apollo Server 5 + graphql-ws',
  mercurius: 'Mercurius 16',
  herald: 'Herald (in-process pubsub)',
  'herald-redis': 'Herald (Redis)',
  'herald-legacy': 'Herald (in-process pubsub), legacy subscriptions-transport-ws clients',
};

const FILES: Record<PeerKind, string> = {
  floor: 'raw-ws.ts',
  // The same server, framing each event once and writing that Buffer to every socket (BENCH_FLOOR_FRAMING).
  'floor-prepared': 'raw-ws.ts',
  apollo: 'apollo.ts',
  mercurius: 'mercurius.ts',
  herald: 'herald.ts',
  'herald-redis': 'herald.ts',
  // The same server as `herald`; only its clients speak the legacy protocol (subprotocol graphql-ws).
  'herald-legacy': 'herald.ts',
};

/**
 * Herald's subscription: `postUpdated`, triggered by `updatePost`. Not `commentAdded`: readers receive a
 * comment only once approved, so each event would need a second mutation (bench/README.md).
 */
export const HERALD_SUBSCRIPTION = 'subscription($postId: ID!) { postUpdated(postId: $postId) { eventId timestamp change post { id content } } }';

export interface PeerEvent {
  readonly postId: string;
  readonly content: string;
}

export interface Peer {
  readonly kind: PeerKind;
  readonly wsUrl: string;
  readonly protocol: LoadProtocol;
  readonly query: string;
  readonly children: Child[];
  /** Topics clients may subscribe to (real post ids for Herald). */
  topics(count: number): Promise<string[]>;
  /** A token per subscriber (null where the peer does not authenticate). */
  tokenFor(index: number): string | null;
  /** One HTTP request publishing these events; resolves with how many the peer accepted. */
  publish(events: readonly PeerEvent[]): Promise<number>;
  /** µs of CPU used so far by the server process(es) (+ our Redis). */
  cpu(): number;
  /** KB resident of the server process after a forced full GC. */
  rssAfterGc(): Promise<number>;
  stop(): Promise<void>;
}

export interface PeerBackends {
  readonly db: Database;
  readonly redis: RedisServer | null;
}

const PEER_DIR = fileURLToPath(new URL('../peers/', import.meta.url));
// One level below the repository root, like src/data/, so Herald's `../../prisma/migrations` resolves.
const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url));
const built = new Set<string>();

/**
 * Every peer runs as plain JavaScript compiled once here (esbuild, its own code bundled, packages
 * external), the way `npm start` runs Herald, never through tsx: tsx's keepNames would add a
 * `__name()` call and ~250 bytes to every named closure of whichever peer it compiles.
 */
export function compiledPeer(kind: PeerKind): string {
  const outfile = `${BUILD_DIR}${kind === 'herald-redis' || kind === 'herald-legacy' ? 'herald' : kind === 'floor-prepared' ? 'floor' : kind}.mjs`;
  if (!built.has(outfile)) {
    buildSync({ entryPoints: [PEER_DIR + FILES[kind]], outfile, bundle: true, packages: 'external', format: 'esm', platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning' });
    built.add(outfile);
  }
  return outfile;
}

export async function startPeer(kind: PeerKind, backends: PeerBackends, options: { instances?: number; redisPrefix?: string } = {}): Promise<Peer> {
  const herald = kind === 'herald' || kind === 'herald-redis' || kind === 'herald-legacy';
  const instances = options.instances ?? 1;
  const dataDir = herald && !backends.db.url ? tempDataDir() : null;
  const env: NodeJS.ProcessEnv = { BENCH_PORT: '0', NODE_ENV: 'development' };
  if (herald) {
    Object.assign(env, {
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
      WS_MAX_CONNECTIONS_PER_USER: '100000',
      WS_QUEUE_CAPACITY: '10000',
      GRAPHQL_MAX_ALIASES: '1000',
      GRAPHQL_MAX_TOKENS: '200000',
      GRAPHQL_MAX_COST: '10000000',
      REDIS_PREFIX: options.redisPrefix ?? `hbench${process.pid}:`,
    });
    if (backends.db.url) env.DATABASE_URL = backends.db.url;
    else env.DATA_DIR = dataDir!.dir;
    if (kind === 'herald-redis') env.REDIS_URL = backends.redis!.url;
    else delete env.REDIS_URL;
  }
  const children: Child[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      const childEnv: NodeJS.ProcessEnv = { ...env, INSTANCE_ID: `bench-${kind}-${i}` };
      if (!herald) childEnv.REDIS_URL = '';
      if (kind === 'floor-prepared') childEnv.BENCH_FLOOR_FRAMING = 'prepared';
      // BENCH_CPU_PROF=<dir>: V8 CPU profiles of the Herald peers (written when they stop) for `--cpu-prof` analysis.
      const profile = herald && process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
      // BENCH_HEAP_DIR=<dir>: SIGUSR1 writes a heap snapshot of a Herald peer there (memory per subscriber, by object kind).
      if (herald && process.env.BENCH_HEAP_DIR) profile.push('--heapsnapshot-signal=SIGUSR1', '--diagnostic-dir', process.env.BENCH_HEAP_DIR);
      // BENCH_HERALD_NODE_FLAGS="--trace-gc ...": extra Node flags for the Herald peers only (experiments; results are not comparable).
      if (herald && process.env.BENCH_HERALD_NODE_FLAGS) profile.push(...process.env.BENCH_HERALD_NODE_FLAGS.split(/\s+/).filter(Boolean));
      children.push(await spawnReady(`${kind}#${i}`, SERVER_CORE, process.execPath, ['--expose-gc', '--enable-source-maps', ...profile, compiledPeer(kind)], childEnv));
    }
  } catch (error) {
    await Promise.all(children.map((c) => c.stop()));
    dataDir?.remove();
    throw error;
  }
  const first = children[0]!;
  const base = `http://127.0.0.1:${first.ready.port as number}`;
  const wsUrl = `ws://127.0.0.1:${first.ready.port as number}${first.ready.ws as string}`;
  const redisPid = kind === 'herald-redis' ? backends.redis?.pid ?? null : null;
  const pids = [...children.map((c) => c.pid), ...(redisPid ? [redisPid] : [])];
  const api = herald ? new HeraldApi(base) : null;
  if (api) await api.setUp(20);

  return {
    kind,
    wsUrl,
    protocol: kind === 'floor' || kind === 'floor-prepared' ? 'raw' : kind === 'herald-legacy' ? 'legacy' : 'graphql-ws',
    query: herald ? HERALD_SUBSCRIPTION : COMMENT_SUBSCRIPTION,
    children,
    topics: async (count) => (api ? api.posts(count) : Array.from({ length: count }, (_, i) => `p${i}`)),
    tokenFor: (index) => api?.readerToken(index) ?? null,
    publish: (events) => (api ? api.updatePosts(events) : publishPlain(kind, base, events)),
    cpu: () => pids.reduce((sum, pid) => sum + cpuMicros(pid), 0),
    async rssAfterGc() {
      first.process.kill('SIGUSR2');
      await sleep(400);
      first.process.kill('SIGUSR2');
      await sleep(400);
      return rssKB(first.pid);
    },
    async stop() {
      await Promise.all(children.map((c) => c.stop()));
      dataDir?.remove();
    },
  };
}

/** Also used for the second instance of a cross-instance pair. */
export function wsUrlOf(child: Child): string {
  return `ws://127.0.0.1:${child.ready.port as number}${child.ready.ws as string}`;
}

const PUBLISH_MUTATION = 'mutation($events: [CommentInput!]!) { publishComments(events: $events) }';

async function publishPlain(kind: PeerKind, base: string, events: readonly PeerEvent[]): Promise<number> {
  const floor = kind === 'floor' || kind === 'floor-prepared';
  const response = await fetch(floor ? `${base}/publish` : `${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(floor ? { events } : { query: PUBLISH_MUTATION, variables: { events } }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { published?: number; data?: { publishComments?: number } };
  if (!response.ok) return 0;
  return (floor ? body.published : body.data?.publishComments) ?? 0;
}
