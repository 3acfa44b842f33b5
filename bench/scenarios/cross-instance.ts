/** Scenario 5: two Herald processes sharing Redis; subscribers split; events published through instance A. */
import { LoadPool } from '../lib/load-pool.js';
import { wsUrlOf, type Peer } from '../lib/peers.js';
import { runStep, warmUp, type StepResult } from '../lib/step.js';
import { describe } from './fanout.js';
import type { Sizes } from './sizes.js';

export interface CrossInstanceResult {
  readonly step: StepResult | null;
  /** p50 latency of subscribers on the publishing instance, and on the other one. */
  readonly localP50: number;
  readonly remoteP50: number;
}

export async function crossInstance(peer: Peer, sizes: Sizes, log: (line: string) => void): Promise<CrossInstanceResult> {
  const pools = [new LoadPool(), new LoadPool()];
  try {
    const [topic] = await peer.topics(1);
    const half = Math.floor(sizes.crossSubscribers / 2);
    for (const [i, pool] of pools.entries()) {
      await pool.connect(
        wsUrlOf(peer.children[i]!),
        peer.protocol,
        peer.query,
        Array.from({ length: half }, (_, k) => ({ postId: topic!, token: peer.tokenFor(i * half + k) })),
      );
    }
    if (!(await warmUp(peer, pools, [topic!], 30_000))) {
      log('  cross-instance: subscribers not all live; skipped');
      return { step: null, localP50: Number.NaN, remoteP50: Number.NaN };
    }
    const step = await runStep(
      peer,
      pools,
      { events: Math.round(sizes.crossRate * sizes.stepSeconds * 2), ratePerSec: sizes.crossRate, topic: () => topic!, perRequest: 1, maxInFlight: 16 },
      { drainMs: sizes.drainMs, p99LimitMs: 250 },
    );
    log(`  cross-instance ${sizes.crossSubscribers} subs: ${describe(step)}; local p50 ${step.poolLatency[0]!.p50} ms, remote p50 ${step.poolLatency[1]!.p50} ms`);
    return { step, localP50: step.poolLatency[0]!.p50, remoteP50: step.poolLatency[1]!.p50 };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}
