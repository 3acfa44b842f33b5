/**
 * `npm run bench [-- --quick] [--runs N] [--peers floor,floor-prepared,apollo,mercurius,herald,herald-redis] [--scenarios 1,2,3,5] [--subscribers N]`
 * (`herald-legacy`, Herald with legacy subscriptions-transport-ws clients, runs only when named in --peers)
 * Starts each peer as its own process (pinned to core 0 with its Redis), drives it from load worker
 * processes (core 1), and writes bench/results/latest.{md,svg,json}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { createBenchDatabase, startRedis } from './lib/backends.js';
import { PEER_LABELS, startPeer, type PeerKind } from './lib/peers.js';
import { killAll, LOAD_CORE, PINNING, pinSelf } from './lib/proc.js';
import { renderMarkdown, type BenchResults, type PeerRun } from './lib/report.js';
import { renderSvg } from './lib/chart.js';
import { capacity } from './scenarios/capacity.js';
import { fanout } from './scenarios/fanout.js';
import { manyTopics } from './scenarios/many-topics.js';
import { crossInstance } from './scenarios/cross-instance.js';
import { FULL, QUICK } from './scenarios/sizes.js';

const ALL_PEERS: PeerKind[] = ['floor', 'floor-prepared', 'apollo', 'mercurius', 'herald', 'herald-redis'];
/** Peers that run only when asked for. */
const EXTRA_PEERS: PeerKind[] = ['herald-legacy'];

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes('--quick');
const subscribers = option('subscribers');
// --subscribers N: one small comparison point (N and 2N idle subscribers; fan-out to N at the reference rate only).
const sizes = subscribers ? { ...FULL, capacityLevels: [Number(subscribers), 2 * Number(subscribers)], fanoutSubscribers: [Number(subscribers)], fanoutDeliveryRates: [FULL.referenceDeliveryRate] } : quick ? QUICK : FULL;
const runs = Number(option('runs') ?? 1);
const peers = (option('peers')?.split(',') as PeerKind[] | undefined) ?? ALL_PEERS;
const scenarios = new Set((option('scenarios') ?? '1,2,3,5').split(',').map(Number));
const outDir = option('out') ?? fileURLToPath(new URL('./results/', import.meta.url));
const log = (line: string) => process.stdout.write(`${line}\n`);

for (const p of peers) if (![...ALL_PEERS, ...EXTRA_PEERS].includes(p)) throw new Error(`unknown peer ${p}; expected ${[...ALL_PEERS, ...EXTRA_PEERS].join(',')}`);

// Interrupted: stop the children; the throw-away database is dropped by the `finally` below only on a
// normal exit, so SIGINT/SIGTERM set a flag and let main() unwind instead of exiting here.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: stopping peers and load, dropping the bench database`);
    killAll();
  });
}
process.on('exit', killAll);

async function main(): Promise<void> {
  pinSelf(LOAD_CORE);
  const started = Date.now();
  const db = await createBenchDatabase();
  const redis = peers.includes('herald-redis') ? await startRedis() : null;
  log(`herald bench (${quick ? 'quick' : 'full'}, ${runs} run(s)); ${cpus().length} cores, pinning ${PINNING ? 'on (server+Redis core 0, load core 1)' : 'off'}`);
  log(`database: ${db.label}; redis: ${redis ? `${redis.url}${redis.pid ? ' (own, CPU counted)' : ' (shared, CPU not counted)'}` : 'not used'}`);
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    quick,
    runs: [],
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, pinning: PINNING },
    backends: { database: db.label, redis: redis ? (redis.pid ? 'own redis-server, pinned with the server' : 'shared redis (CPU not counted)') : 'none' },
    sizes,
  };
  try {
    for (let run = 0; run < runs && !interrupted; run++) {
      const perPeer: Partial<Record<PeerKind, PeerRun>> = {};
      for (const kind of peers) {
        if (interrupted) break;
        log(`run ${run + 1}/${runs} · ${PEER_LABELS[kind]}`);
        const result: PeerRun = {};
        if (scenarios.has(1) || scenarios.has(2) || scenarios.has(4)) {
          const peer = await startPeer(kind, { db, redis });
          try {
            if (scenarios.has(1)) result.capacity = await capacity(peer, sizes, log);
            if (scenarios.has(2) || scenarios.has(4)) Object.assign(result, await fanout(peer, sizes, log));
          } catch (error) {
            log(`  FAILED: ${String(error)}`);
            result.error = String(error);
          } finally {
            await peer.stop();
          }
        }
        if (scenarios.has(3)) {
          const peer = await startPeer(kind, { db, redis });
          try {
            result.manyTopics = await manyTopics(peer, sizes, log);
          } catch (error) {
            log(`  FAILED: ${String(error)}`);
            result.error = String(error);
          } finally {
            await peer.stop();
          }
        }
        if (scenarios.has(5) && kind === 'herald-redis') {
          const peer = await startPeer(kind, { db, redis }, { instances: 2 });
          try {
            result.crossInstance = await crossInstance(peer, sizes, log);
          } catch (error) {
            log(`  FAILED: ${String(error)}`);
            result.error = String(error);
          } finally {
            await peer.stop();
          }
        }
        perPeer[kind] = result;
      }
      results.runs.push(perPeer);
    }
  } finally {
    await redis?.stop();
    await db.drop().catch((error: unknown) => log(`could not drop the bench database: ${String(error)}`));
  }
  results.seconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(outDir, { recursive: true });
  const markdown = renderMarkdown(results);
  writeFileSync(`${outDir}/latest.json`, JSON.stringify(results, null, 2));
  writeFileSync(`${outDir}/latest.md`, markdown);
  writeFileSync(`${outDir}/latest.svg`, renderSvg(results));
  log(`\n${markdown}`);
  log(`wrote ${outDir}latest.md, latest.svg, latest.json in ${results.seconds} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    killAll();
    process.exit(1);
  },
);
