/**
 * Scenario 2 (fan-out 1→N, stepped rates until a step fails) and scenario 4 (end to end: one mutation per
 * request on a fixed schedule at 50% and 80% of the highest rate held, and at the reference rate) on the
 * same subscribers.
 */
import { LoadPool } from '../lib/load-pool.js';
import type { Peer } from '../lib/peers.js';
import { runStep, warmUp, type StepResult } from '../lib/step.js';
import type { Sizes } from './sizes.js';

export interface FanoutLevel {
  readonly subscribers: number;
  readonly steps: StepResult[];
  /** Highest delivery rate (deliveries/s) held with full delivery and p99 < 250 ms; 0 if none. */
  readonly maxDeliveriesPerSec: number;
  /** The step at the reference delivery rate (CPU per delivery compared there). */
  readonly reference: StepResult | null;
}

export interface EndToEnd {
  readonly subscribers: number;
  readonly points: { label: string; deliveriesPerSec: number; step: StepResult }[];
}

export async function fanout(peer: Peer, sizes: Sizes, log: (line: string) => void): Promise<{ levels: FanoutLevel[]; e2e: EndToEnd | null }> {
  const pool = new LoadPool();
  const levels: FanoutLevel[] = [];
  let e2e: EndToEnd | null = null;
  try {
    const [topic] = await peer.topics(1);
    for (const subscribers of sizes.fanoutSubscribers) {
      const from = pool.size;
      const connected = await pool.connect(
        peer.wsUrl,
        peer.protocol,
        peer.query,
        Array.from({ length: subscribers - from }, (_, i) => ({ postId: topic!, token: peer.tokenFor(from + i) })),
      );
      const live = connected.failed === 0 && (await warmUp(peer, [pool], [topic!], 30_000));
      const steps: StepResult[] = [];
      if (live) {
        for (const deliveries of sizes.fanoutDeliveryRates) {
          const rate = deliveries / subscribers;
          const step = await runStep(
            peer,
            [pool],
            { events: Math.max(10, Math.round(rate * sizes.stepSeconds)), ratePerSec: rate, topic: () => topic!, perRequest: 1000, maxInFlight: 4 },
            { drainMs: sizes.drainMs, p99LimitMs: 250 },
          );
          steps.push(step);
          log(`  fan-out ${subscribers} subs @ ${deliveries}/s: ${describe(step)}`);
          if (!step.passed) break;
        }
      } else log(`  fan-out ${subscribers} subs: only ${connected.subscribed} subscribed / not all live; skipped`);
      const held = steps.filter((s) => s.passed).map((s) => s.ratePerSec * subscribers);
      levels.push({
        subscribers,
        steps,
        maxDeliveriesPerSec: held.length ? Math.max(...held) : 0,
        reference: steps.find((s) => Math.abs(s.ratePerSec * subscribers - sizes.referenceDeliveryRate) < 1) ?? null,
      });
    }
    const last = levels.at(-1);
    if (last && last.steps.length) {
      const subscribers = last.subscribers;
      const max = last.maxDeliveriesPerSec || sizes.fanoutDeliveryRates[0]!;
      const targets = [
        { label: 'reference', deliveriesPerSec: sizes.referenceDeliveryRate },
        { label: '50% of max', deliveriesPerSec: max * 0.5 },
        { label: '80% of max', deliveriesPerSec: max * 0.8 },
      ];
      const points: EndToEnd['points'] = [];
      for (const target of targets) {
        const rate = target.deliveriesPerSec / subscribers;
        const step = await runStep(
          peer,
          [pool],
          { events: Math.max(10, Math.round(rate * sizes.stepSeconds)), ratePerSec: rate, topic: () => topic!, perRequest: 1, maxInFlight: 64 },
          { drainMs: sizes.drainMs, p99LimitMs: 250 },
        );
        points.push({ ...target, step });
        log(`  e2e ${subscribers} subs, ${target.label} (${Math.round(target.deliveriesPerSec)}/s): ${describe(step)}`);
      }
      e2e = { subscribers, points };
    }
    return { levels, e2e };
  } finally {
    await pool.close();
  }
}

export function describe(step: StepResult): string {
  const verdict = step.passed ? 'ok' : `FAILED (${step.reason})`;
  return `${step.delivered} deliveries, ${step.cpuUsPerDelivery.toFixed(1)} µs CPU/delivery, p50 ${step.latency.p50} ms, p99 ${step.latency.p99} ms — ${verdict}`;
}
