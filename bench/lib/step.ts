/** One measured step: publish a fixed count at a fixed rate, wait for delivery, check it, read CPU and latency. */
import type { Histogram } from 'hdr-histogram-js';
import type { LoadPool } from './load-pool.js';
import type { Peer } from './peers.js';
import { nextSeq, publishAtRate, type PublishPlan } from './publisher.js';
import { sleep } from './proc.js';

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface StepResult {
  readonly ratePerSec: number;
  readonly events: number;
  readonly delivered: number;
  readonly missing: number;
  readonly cpuUsPerDelivery: number;
  readonly latency: Latency;
  /** Per pool, when a step spans several (cross-instance). */
  readonly poolLatency: Latency[];
  readonly passed: boolean;
  readonly reason: string | null;
}

export function latencyOf(h: Histogram): Latency {
  const ms = (us: number) => Math.round(us / 10) / 100;
  return { p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue) };
}

export interface StepOptions {
  readonly drainMs: number;
  readonly p99LimitMs: number;
  /** Runs after counters are reset, just before publishing (starts churn). */
  readonly beforePublish?: () => Promise<void>;
}

export async function runStep(peer: Peer, pools: LoadPool[], plan: PublishPlan, options: StepOptions): Promise<StepResult> {
  await Promise.all(pools.map((p) => p.reset(nextSeq())));
  await Promise.all(pools.map((p) => p.record(true)));
  await options.beforePublish?.();
  const cpuStart = peer.cpu();
  const outcome = await publishAtRate(peer, plan);
  const deadline = Date.now() + options.drainMs;
  let reports = await Promise.all(pools.map((p) => p.report(outcome.perTopic)));
  while (reports.some((r) => r.missing > 0) && Date.now() < deadline) {
    await sleep(200);
    reports = await Promise.all(pools.map((p) => p.report(outcome.perTopic)));
  }
  const cpu = peer.cpu() - cpuStart;
  await Promise.all(pools.map((p) => p.record(false)));
  const merged = reports[0]!.histogram;
  for (const r of reports.slice(1)) merged.add(r.histogram);
  const sum = (pick: (r: (typeof reports)[number]) => number) => reports.reduce((s, r) => s + pick(r), 0);
  const delivered = sum((r) => r.received);
  const missing = sum((r) => r.missing);
  const latency = latencyOf(merged);
  const reasons: string[] = [];
  if (outcome.timedOut) reasons.push('publisher could not send every event in time');
  if (outcome.rejected > 0) reasons.push(`${outcome.rejected} events rejected by the peer`);
  if (missing > 0) reasons.push(`${missing} deliveries missing after the ${options.drainMs} ms drain`);
  if (sum((r) => r.extra) > 0) reasons.push(`${sum((r) => r.extra)} unexpected deliveries`);
  if (sum((r) => r.errors) > 0) reasons.push(`${sum((r) => r.errors)} subscription errors (${reports.find((r) => r.lastError)?.lastError ?? ''})`);
  if (sum((r) => r.closedUnexpectedly) > 0) reasons.push(`${sum((r) => r.closedUnexpectedly)} sockets closed`);
  if (outcome.maxLagMs > 1000) reasons.push(`publisher fell ${Math.round(outcome.maxLagMs)} ms behind schedule`);
  if (latency.p99 >= options.p99LimitMs) reasons.push(`p99 ${latency.p99} ms ≥ ${options.p99LimitMs} ms`);
  return {
    ratePerSec: plan.ratePerSec,
    events: outcome.accepted,
    delivered,
    missing,
    cpuUsPerDelivery: delivered > 0 ? cpu / delivered : Number.NaN,
    latency,
    poolLatency: reports.map((r) => latencyOf(r.histogram)),
    passed: reasons.length === 0,
    reason: reasons.length ? reasons.join('; ') : null,
  };
}

/**
 * Publishes rounds of events (one per topic) until every client has received one: proves every
 * subscription is live before anything is measured. Counters are reset afterwards (warm-up discarded).
 */
export async function warmUp(peer: Peer, pools: LoadPool[], topics: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const total = pools.reduce((s, p) => s + p.size, 0);
  let ok = false;
  while (Date.now() < deadline) {
    for (let i = 0; i < topics.length; i += 200) {
      await publishAtRate(peer, { events: Math.min(200, topics.length - i), ratePerSec: 1e6, topic: (s) => topics[i + s]!, perRequest: 200, maxInFlight: 1 });
    }
    await sleep(300);
    const reports = await Promise.all(pools.map((p) => p.report()));
    if (reports.reduce((s, r) => s + r.clientsWithAny, 0) >= total) {
      ok = true;
      break;
    }
  }
  await Promise.all(pools.map((p) => p.reset()));
  return ok;
}
