/** Scenario 3: many small topics (N posts × 5 subscribers), uniform and skewed, with 10% of clients re-subscribing every second. */
import { LoadPool } from '../lib/load-pool.js';
import type { Peer } from '../lib/peers.js';
import { publishAtRate, skewedPicker, uniformPicker } from '../lib/publisher.js';
import { sleep } from '../lib/proc.js';
import { runStep, warmUp, type StepResult } from '../lib/step.js';
import { describe } from './fanout.js';
import type { Sizes } from './sizes.js';

export interface ManyTopicsResult {
  readonly subscribers: number;
  readonly uniform: StepResult[];
  readonly skewed: StepResult[];
  readonly reference: StepResult | null;
  readonly live: boolean;
  /**
   * Server CPU of the trigger alone (the publishing HTTP request, and for Herald its database write),
   * µs per event, measured at the reference rate on topics nobody subscribes to. With 5 deliveries per
   * event the trigger weighs on this scenario, and peers differ in what it does.
   */
  readonly triggerUsPerEvent: number | null;
}

/** Publishes at `rate` to topics without subscribers and returns the server CPU per accepted event. */
async function measureTrigger(peer: Peer, topics: readonly string[], rate: number, seconds: number): Promise<number | null> {
  const cpuStart = peer.cpu();
  const outcome = await publishAtRate(peer, { events: Math.round(rate * seconds), ratePerSec: rate, topic: uniformPicker(topics), perRequest: 1000, maxInFlight: 4 });
  await sleep(300);
  const cpu = peer.cpu() - cpuStart;
  return outcome.accepted > 0 && outcome.rejected === 0 ? cpu / outcome.accepted : null;
}

/** CPU per delivery of a step with its trigger's CPU taken out (null without both figures). */
export function deliveryOnlyCpu(step: StepResult | null | undefined, triggerUsPerEvent: number | null | undefined): number | null {
  if (!step?.passed || triggerUsPerEvent == null || step.delivered === 0) return null;
  return (step.cpuUsPerDelivery * step.delivered - triggerUsPerEvent * step.events) / step.delivered;
}

/** Topics nobody subscribes to, for the trigger-alone measurement. */
const IDLE_TOPICS = 50;

export async function manyTopics(peer: Peer, sizes: Sizes, log: (line: string) => void): Promise<ManyTopicsResult> {
  const pool = new LoadPool();
  try {
    const all = await peer.topics(sizes.manyTopics + IDLE_TOPICS);
    const topics = all.slice(0, sizes.manyTopics);
    const triggerUsPerEvent = await measureTrigger(peer, all.slice(sizes.manyTopics), sizes.manyTopicsReferenceRate, sizes.stepSeconds);
    log(`  trigger alone @ ${sizes.manyTopicsReferenceRate} events/s: ${triggerUsPerEvent === null ? 'failed' : `${triggerUsPerEvent.toFixed(1)} µs CPU/event`}`);
    const clients = topics.flatMap((postId, t) =>
      Array.from({ length: sizes.subscribersPerTopic }, (_, k) => ({ postId, token: peer.tokenFor(t * sizes.subscribersPerTopic + k) })),
    );
    const connected = await pool.connect(peer.wsUrl, peer.protocol, peer.query, clients);
    const live = connected.failed === 0 && (await warmUp(peer, [pool], topics, 60_000));
    const result = { subscribers: clients.length, uniform: [] as StepResult[], skewed: [] as StepResult[], reference: null as StepResult | null, live, triggerUsPerEvent };
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
