/**
 * Publishes a fixed number of events at a fixed rate. Every tick sends the events that fell due as one
 * request (or one request per event when `perRequest` is 1), each content stamped with the send time.
 * Bounded in count and in time; reports how far behind schedule it fell.
 */
import { nowMs, stampedContent } from '../load/protocol.js';
import type { Peer, PeerEvent } from './peers.js';
import { sleep } from './proc.js';

export interface PublishPlan {
  readonly events: number;
  readonly ratePerSec: number;
  readonly topic: (seq: number) => string;
  /** Most events in one request (1 = one mutation per request). */
  readonly perRequest: number;
  readonly maxInFlight: number;
  readonly tickMs?: number;
}

export interface PublishOutcome {
  /** Accepted events per topic: what every stable subscriber of that topic must receive. */
  readonly perTopic: Record<string, number>;
  readonly accepted: number;
  readonly rejected: number;
  readonly maxLagMs: number;
  readonly ms: number;
  readonly timedOut: boolean;
}

let globalSeq = 0;

/** The sequence the next published event will carry. */
export function nextSeq(): number {
  return globalSeq + 1;
}

export async function publishAtRate(peer: Peer, plan: PublishPlan): Promise<PublishOutcome> {
  const tick = plan.tickMs ?? 10;
  const perTopic: Record<string, number> = {};
  let accepted = 0;
  let rejected = 0;
  let maxLag = 0;
  let sent = 0;
  let inFlight = 0;
  const requests: Promise<void>[] = [];
  const start = nowMs();
  const deadline = start + (plan.events / plan.ratePerSec) * 1000 * 3 + 15_000;
  while (sent < plan.events && nowMs() < deadline) {
    const now = nowMs();
    const due = Math.min(plan.events, Math.floor(((now - start) / 1000) * plan.ratePerSec) + 1);
    while (sent < due && inFlight < plan.maxInFlight) {
      const count = Math.min(plan.perRequest, due - sent);
      const stamp = nowMs();
      maxLag = Math.max(maxLag, stamp - (start + (sent / plan.ratePerSec) * 1000));
      const events: PeerEvent[] = [];
      for (let k = 0; k < count; k++) {
        globalSeq += 1;
        events.push({ postId: plan.topic(sent + k), content: stampedContent(stamp, globalSeq) });
      }
      sent += count;
      inFlight += 1;
      requests.push(
        peer
          .publish(events)
          .then(
            (ok) => {
              // A peer that accepts a batch accepts all of it (the mutation throws otherwise); Herald reports per alias.
              if (ok === events.length) for (const e of events) perTopic[e.postId] = (perTopic[e.postId] ?? 0) + 1;
              else if (ok > 0) rejected += events.length; // partial: which alias failed is unknown, count all as rejected
              else rejected += events.length;
              if (ok === events.length) accepted += ok;
            },
            () => {
              rejected += events.length;
            },
          )
          .finally(() => {
            inFlight -= 1;
          }),
      );
    }
    await sleep(tick);
  }
  await Promise.race([Promise.all(requests), sleep(30_000)]);
  return { perTopic, accepted, rejected, maxLagMs: maxLag, ms: nowMs() - start, timedOut: sent < plan.events };
}

/** Zipf-like skew: topic i is hit with weight 1/(i+1). */
export function skewedPicker(topics: readonly string[], seed = 7): (seq: number) => string {
  const weights = topics.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const r = state / 0x7fffffff;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return topics[lo]!;
  };
}

export function uniformPicker(topics: readonly string[]): (seq: number) => string {
  return (seq) => topics[seq % topics.length]!;
}
