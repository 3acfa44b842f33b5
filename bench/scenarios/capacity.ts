/** Scenario 1: idle authenticated subscribers; KB per subscriber (RSS slope after forced GC) and connect+subscribe rate. */
import { LoadPool } from '../lib/load-pool.js';
import type { Peer } from '../lib/peers.js';
import { sleep } from '../lib/proc.js';
import { warmUp } from '../lib/step.js';
import type { Sizes } from './sizes.js';

export interface CapacityResult {
  readonly points: { subscribers: number; rssKB: number; connectPerSec: number; failed: number }[];
  readonly kbPerSubscriber: number;
  readonly connectPerSec: number;
  readonly allLive: boolean;
}

export async function capacity(peer: Peer, sizes: Sizes, log: (line: string) => void): Promise<CapacityResult> {
  const pool = new LoadPool();
  try {
    const [topic] = await peer.topics(1);
    const spec = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ postId: topic!, token: peer.tokenFor(from + i) }));
    // A few clients and one round of events first, so JIT and lazy init are not charged to the slope.
    await pool.connect(peer.wsUrl, peer.protocol, peer.query, spec(0, 20));
    await warmUp(peer, [pool], [topic!], 20_000);
    const points: CapacityResult['points'] = [];
    for (const level of sizes.capacityLevels) {
      const from = pool.size;
      const result = await pool.connect(peer.wsUrl, peer.protocol, peer.query, spec(from, level));
      await sleep(1000);
      const rss = await peer.rssAfterGc();
      const rate = ((level - from) / result.ms) * 1000;
      points.push({ subscribers: level, rssKB: rss, connectPerSec: rate, failed: result.failed });
      log(`  ${level} idle subscribers: RSS ${Math.round(rss / 1024)} MiB, ${Math.round(rate)} connect+subscribe/s, ${result.failed} failed`);
    }
    const allLive = points.every((p) => p.failed === 0) && (await warmUp(peer, [pool], [topic!], 30_000));
    const total = points.reduce((s, p) => s + p.subscribers, 0);
    const connectMs = points.reduce((s, p) => s + p.subscribers / p.connectPerSec, 0);
    return { points, kbPerSubscriber: slope(points.map((p) => [p.subscribers, p.rssKB])), connectPerSec: total / connectMs, allLive };
  } finally {
    await pool.close();
  }
}

/** Least-squares slope of y over x. */
function slope(xy: [number, number][]): number {
  const n = xy.length;
  const mx = xy.reduce((s, [x]) => s + x, 0) / n;
  const my = xy.reduce((s, [, y]) => s + y, 0) / n;
  const num = xy.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = xy.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}
