/** Scenario 3: many small topics (N posts × 5 subscribers), uniform and skewed, with 10% of clients re-subscribing every second. */
import { LoadPool } from '../lib/load-pool.js';
import type { Peer } from '../lib/peers.js';
import { skewedPicker, uniformPicker } from '../lib/publisher.js';
import { runStep, warmUp, type StepResult } from '../lib/step.js';
import { describe } from './fanout.js';
import type { Sizes } from './sizes.js';

export interface ManyTopicsResult {
  readonly subscribers: number;
  readonly uniform: StepResult[];
  readonly skewed: StepResult[];
  readonly reference: StepResult | null;
  readonly live: boolean;
}

export async function manyTopics(peer: Peer, sizes: Sizes, log: (line: string) => void): Promise<ManyTopicsResult> {
  const pool = new LoadPool();
  try {
    const topics = await peer.topics(sizes.manyTopics);
    const clients = topics.flatMap((postId, t) =>
      Array.from({ length: sizes.subscribersPerTopic }, (_, k) => ({ postId, token: peer.tokenFor(t * sizes.subscribersPerTopic + k) })),
    );
    const connected = await pool.connect(peer.wsUrl, peer.protocol, peer.query, clients);
    const live = connected.failed === 0 && (await warmUp(peer, [pool], topics, 60_000));
    const result = { subscribers: clients.length, uniform: [] as StepResult[], skewed: [] as StepResult[], reference: null as StepResult | null, live };
    if (!live) {
      log(`  many topics: ${connected.subscribed}/${clients.length} subscribed, not all live; skipped`);
      return result;
    }
    for (const pattern of ['uniform', 'skewed'] as const) {
      const pick = pattern === 'uniform' ? uniformPicker(topics) : skewedPicker(topics);
      for (const rate of sizes.manyTopicsRates) {
        const events = Math.round(rate * sizes.stepSeconds);
        const step = await runStep(
          peer,
          [pool],
          { events, ratePerSec: rate, topic: pick, perRequest: 1000, maxInFlight: 4 },
          { drainMs: sizes.drainMs, p99LimitMs: 250, beforePublish: () => pool.churn(0.1, 1000, sizes.stepSeconds * 1000) },
        );
        result[pattern].push(step);
        log(`  many topics ${pattern} @ ${rate} events/s: ${describe(step)}`);
        if (pattern === 'uniform' && rate === sizes.manyTopicsReferenceRate) result.reference = step;
        if (!step.passed) break;
      }
    }
    return result;
  } finally {
    await pool.close();
  }
}
