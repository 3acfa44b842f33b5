/** Scenario 1: idle authenticated subscribers; KB per subscriber (RSS slope after forced GC) and connect+subscribe rate. */
import { LoadPool } from '../lib/load-pool.js';
import type { ConnectResult } from '../load/protocol.js';
import type { Peer } from '../lib/peers.js';
import { sleep } from '../lib/proc.js';
import { warmUp } from '../lib/step.js';
import type { Sizes } from './sizes.js';
import { reconnectStorm, type StormResult } from './reconnect-storm.js';

export interface CapacityResult {
  readonly points: { subscribers: number; rssKB: number; connectPerSec: number; failed: number }[];
  readonly kbPerSubscriber: number;
  readonly connectPerSec: number;
  readonly allLive: boolean;
  /** Every subscriber of the last level dropped and reconnected at once. */
  readonly storm?: StormResult;
}

export interface IdleSubscribers {
  readonly topic: string;
  /** Connects idle subscribers to `topic` until the pool holds `level`. */
  growTo(level: number): Promise<ConnectResult>;
}

/**
 * Subscribers of one post's stream, authenticated, each with its own token index. A few clients and one
 * round of events come first, so JIT and lazy initialisation are not charged to the subscribers measured.
 */
export async function warmedIdleSubscribers(peer: Peer, pool: LoadPool): Promise<IdleSubscribers> {
  const [topic] = await peer.topics(1);
  const spec = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ postId: topic!, token: peer.tokenFor(from + i) }));
  await pool.connect(peer.wsUrl, peer.protocol, peer.query, spec(0, 20));
  await warmUp(peer, [pool], [topic!], 20_000);
  return { topic: topic!, growTo: (level) => pool.connect(peer.wsUrl, peer.protocol, peer.query, spec(pool.size, level)) };
}

export async function capacity(peer: Peer, sizes: Sizes, log: (line: string) => void): Promise<CapacityResult> {
  const pool = new LoadPool();
  try {
    const { topic, growTo } = await warmedIdleSubscribers(peer, pool);
    const points: CapacityResult['points'] = [];
    for (const level of sizes.capacityLevels) {
      const from = pool.size;
      const result = await growTo(level);
      await sleep(1000);
      const rss = await peer.rssAfterGc();
      const rate = ((level - from) / result.ms) * 1000;
      points.push({ subscribers: level, rssKB: rss, connectPerSec: rate, failed: result.failed });
      log(`  ${level} idle subscribers: RSS ${Math.round(rss / 1024)} MiB, ${Math.round(rate)} connect+subscribe/s, ${result.failed} failed`);
    }
    const allLive = points.every((p) => p.failed === 0) && (await warmUp(peer, [pool], [topic], 30_000));
    const total = points.reduce((s, p) => s + p.subscribers, 0);
    const connectMs = points.reduce((s, p) => s + p.subscribers / p.connectPerSec, 0);
    const storm = await reconnectStorm(peer, pool, topic);
    log(
      `  reconnect storm, ${storm.clients} clients at once: all subscribed again in ${storm.allSubscribedS ?? '—'} s, all delivering in ${storm.allDeliveringS ?? '—'} s ` +
        `(per client p50 ${storm.deliveringP50S ?? '—'} s, p99 ${storm.deliveringP99S ?? '—'} s), ${storm.retries} retries, ${storm.notBack} not back`,
    );
    return { points, kbPerSubscriber: slope(points.map((p) => [p.subscribers, p.rssKB])), connectPerSec: total / connectMs, allLive, storm };
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
