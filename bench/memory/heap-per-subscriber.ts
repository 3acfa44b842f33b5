/**
 * `npx tsx bench/memory/heap-per-subscriber.ts [herald|herald-redis|herald-legacy] [top]`: heap growth per
 * idle authenticated subscriber of a Herald peer, by object kind (`herald-legacy`: legacy-protocol clients). Heap snapshots at 1,000 and 3,000
 * subscribers (one post's `postUpdated`, as scenario 1); the difference divided by 2,000. The RSS slope of
 * scenario 1 also counts what the heap does not hold (socket buffers, allocator slack); this says which
 * objects an idle subscriber keeps alive.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBenchDatabase, startRedis } from '../lib/backends.js';
import { LoadPool } from '../lib/load-pool.js';
import { startPeer, type PeerKind } from '../lib/peers.js';
import { sleep } from '../lib/proc.js';
import { warmedIdleSubscribers } from '../scenarios/capacity.js';
import { growthPerSubscriber, heapByKind } from './heap-summary.js';

const LEVELS = [1000, 3000] as const;
const kind = (process.argv[2] ?? 'herald') as PeerKind;
const top = Number(process.argv[3] ?? 25);
if (kind !== 'herald' && kind !== 'herald-redis' && kind !== 'herald-legacy') throw new Error('usage: heap-per-subscriber.ts [herald|herald-redis|herald-legacy] [top]');

const dir = mkdtempSync(join(tmpdir(), 'herald-heap-'));
process.env.BENCH_HEAP_DIR = dir;
const db = await createBenchDatabase();
const redis = kind === 'herald-redis' ? await startRedis() : null;
const peer = await startPeer(kind, { db, redis });
const pool = new LoadPool();
try {
  const { growTo } = await warmedIdleSubscribers(peer, pool);
  const snapshots: string[] = [];
  for (const level of LEVELS) {
    const result = await growTo(level);
    if (result.failed > 0) throw new Error(`${result.failed} subscribers failed to connect`);
    await sleep(1000);
    const before = new Set(readdirSync(dir));
    process.kill(peer.children[0]!.pid, 'SIGUSR1');
    snapshots.push(await newSnapshot(dir, before));
  }
  const { total, rows } = growthPerSubscriber(heapByKind(snapshots[0]!), heapByKind(snapshots[1]!), LEVELS[1] - LEVELS[0]);
  console.log(`${kind}: heap growth per idle subscriber ${(total / 1024).toFixed(2)} KB (${LEVELS[0]} → ${LEVELS[1]} subscribers)`);
  for (const row of rows.slice(0, top)) console.log(`${row.bytes.toFixed(0).padStart(7)} B ${row.count.toFixed(2).padStart(6)} ×  ${row.kind}`);
} finally {
  await pool.close();
  await peer.stop();
  await redis?.stop();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}

/** The snapshot file that appeared in `dir` since `before`, once V8 has finished writing it (its size stops changing). */
async function newSnapshot(where: string, before: Set<string>): Promise<string> {
  let last = -1;
  for (let i = 0; i < 1200; i++) {
    await sleep(250);
    const name = readdirSync(where).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (!name) continue;
    const size = statSync(join(where, name)).size;
    if (size > 0 && size === last) return join(where, name);
    last = size;
  }
  throw new Error('no complete heap snapshot within 5 minutes');
}
