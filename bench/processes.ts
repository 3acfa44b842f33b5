/**
 * `npm run bench:processes [-- --subscribers 5000 --rates 10000,20000,40000,80000 --steps 5]`: fan-out 1→N and
 * end-to-end latency at N subscribers for `WEB_CONCURRENCY=1` and `=2`, Herald started as `npm start` starts it
 * (compiled `dist/main.js`, node:cluster workers sharing one port) on PostgreSQL and Redis. Scenarios 2 and 4
 * of `npm run bench` (bench/scenarios/fanout.ts), unchanged; only the server differs. Writes
 * bench/results/processes.{json,md}.
 *
 * Unlike `npm run bench`, the server is not pinned to one core (two workers need both): the load workers stay
 * on core 1 as there, so with 2 processes the load shares a core with one worker. CPU is the primary's plus
 * every worker's (the primary accepts each connection and hands it over).
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createBenchDatabase, startRedis, type Database, type RedisServer } from './lib/backends.js';
import { HeraldApi } from './lib/herald-api.js';
import { HERALD_SUBSCRIPTION, type Peer } from './lib/peers.js';
import { cpuMicros, killAll, rssKB, stopChild, track, waitFor } from './lib/proc.js';
import { freePort } from '../test/helpers/faults.js';
import { fanout, type EndToEnd, type FanoutLevel } from './scenarios/fanout.js';
import { FULL, type Sizes } from './scenarios/sizes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = fileURLToPath(new URL('./results/', import.meta.url));

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const subscribers = Number(option('subscribers', '5000'));
const sizes: Sizes = {
  ...FULL,
  stepSeconds: Number(option('steps', String(FULL.stepSeconds))),
  fanoutSubscribers: [subscribers],
  fanoutDeliveryRates: option('rates', FULL.fanoutDeliveryRates.join(',')).split(',').map(Number),
};
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Pids of the primary's live children (its workers). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function startHerald(processes: number, db: Database, redis: RedisServer): Promise<Peer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    WEB_CONCURRENCY: String(processes),
    LOG_LEVEL: 'info',
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `hproc${process.pid}-${processes}:`,
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
    WS_MAX_CONNECTIONS_PER_USER: '100000',
    WS_QUEUE_CAPACITY: '10000',
    GRAPHQL_MAX_ALIASES: '1000',
    GRAPHQL_MAX_TOKENS: '200000',
    GRAPHQL_MAX_COST: '10000000',
  };
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + String(chunk)).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // WEB_CONCURRENCY=1 logs "Herald listening"; a primary logs "all N workers accepting" once every worker listens.
  const ready = await waitFor(() => output.includes(processes > 1 ? `all ${processes} workers accepting` : 'Herald listening'), 120_000, 200);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`Herald (${processes} processes) did not start: ${output.slice(-2000)}`);
  }
  const base = `http://127.0.0.1:${port}`;
  const api = new HeraldApi(base);
  await api.setUp(20);
  const pids = () => [child.pid!, ...childrenOf(child.pid!)];
  return {
    kind: 'herald-redis',
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    protocol: 'graphql-ws',
    query: HERALD_SUBSCRIPTION,
    children: [],
    topics: (count) => api.posts(count),
    tokenFor: (index) => api.readerToken(index),
    publish: (events) => api.updatePosts(events),
    // Our own Redis counts with the server, as in `npm run bench`.
    cpu: () => [...pids(), ...(redis.pid ? [redis.pid] : [])].reduce((sum, pid) => sum + safe(() => cpuMicros(pid)), 0),
    rssAfterGc: async () => pids().reduce((sum, pid) => sum + safe(() => rssKB(pid)), 0),
    stop: () => stopChild(child, 15_000),
  };
}

function safe(read: () => number): number {
  try {
    return read();
  } catch {
    return 0; // a process that just exited
  }
}

interface ProcessesRun {
  readonly processes: number;
  readonly levels: FanoutLevel[];
  readonly e2e: EndToEnd | null;
  readonly rssKB: number;
  readonly error?: string;
}

function render(started: string, db: string, redis: string, runs: ProcessesRun[]): string {
  const lines = [
    `# Herald fan-out and end-to-end latency, 1 vs 2 processes (\`npm run bench:processes\`)`,
    '',
    `${started} · ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version} · ${subscribers} subscribers of one post · database: ${db} · redis: ${redis} · server not pinned, load workers on core 1`,
    '',
    '| WEB_CONCURRENCY | step (deliveries/s) | delivered | µs CPU/delivery (all processes + Redis) | p50 ms | p99 ms | result |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const run of runs) {
    for (const level of run.levels) {
      for (const step of level.steps) {
        lines.push(`| ${run.processes} | fan-out ${Math.round(step.ratePerSec * level.subscribers).toLocaleString('en-US')} | ${step.delivered} | ${step.cpuUsPerDelivery.toFixed(1)} | ${step.latency.p50} | ${step.latency.p99} | ${step.passed ? 'ok' : `FAILED: ${step.reason}`} |`);
      }
    }
    for (const point of run.e2e?.points ?? []) {
      lines.push(`| ${run.processes} | e2e ${point.label} (${Math.round(point.deliveriesPerSec).toLocaleString('en-US')}) | ${point.step.delivered} | ${point.step.cpuUsPerDelivery.toFixed(1)} | ${point.step.latency.p50} | ${point.step.latency.p99} | ${point.step.passed ? 'ok' : `FAILED: ${point.step.reason}`} |`);
    }
    if (run.error) lines.push(`| ${run.processes} | — | — | — | — | — | ERROR: ${run.error} |`);
  }
  lines.push('', '| WEB_CONCURRENCY | max deliveries/s held (all delivered, p99 < 250 ms) | e2e p50 / p99 / p99.9 at 10,000/s (ms) | RSS after the run, all processes (MiB) |', '| --- | --- | --- | --- |');
  for (const run of runs) {
    const ref = run.e2e?.points.find((p) => p.label === 'reference')?.step;
    lines.push(`| ${run.processes} | ${(run.levels[0]?.maxDeliveriesPerSec ?? 0).toLocaleString('en-US')} | ${ref ? `${ref.latency.p50} / ${ref.latency.p99} / ${ref.latency.p999}` : '—'} | ${Math.round(run.rssKB / 1024)} |`);
  }
  lines.push('', 'How steps are run and judged: `bench/README.md` (scenarios 2 and 4).', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  execFileSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  const db = await createBenchDatabase();
  if (!db.url) throw new Error('bench:processes needs PostgreSQL (WEB_CONCURRENCY > 1 refuses the embedded database)');
  const redis = await startRedis();
  const runs: ProcessesRun[] = [];
  try {
    for (const processes of [1, 2]) {
      log(`WEB_CONCURRENCY=${processes}`);
      const peer = await startHerald(processes, db, redis);
      try {
        const result = await fanout(peer, sizes, log);
        runs.push({ processes, ...result, rssKB: await peer.rssAfterGc() });
      } catch (error) {
        log(`  FAILED: ${String(error)}`);
        runs.push({ processes, levels: [], e2e: null, rssKB: 0, error: String(error) });
      } finally {
        await peer.stop();
      }
    }
  } finally {
    await redis.stop();
    await db.drop().catch(() => undefined);
  }
  mkdirSync(OUT, { recursive: true });
  const markdown = render(started, db.label, redis.pid ? 'own redis-server (CPU counted)' : 'shared redis (CPU not counted)', runs);
  writeFileSync(`${OUT}processes.json`, JSON.stringify({ startedAt: started, subscribers, sizes, runs }, null, 2));
  writeFileSync(`${OUT}processes.md`, markdown);
  log(`\n${markdown}`);
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`bench:processes failed: ${error instanceof Error ? error.stack : String(error)}`);
    killAll();
    process.exit(1);
  },
);
