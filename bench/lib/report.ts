/** Markdown for the results: ratios to the floor first, absolute figures after, min–max over runs. */
import type { CapacityResult } from '../scenarios/capacity.js';
import type { CrossInstanceResult } from '../scenarios/cross-instance.js';
import type { EndToEnd, FanoutLevel } from '../scenarios/fanout.js';
import { deliveryOnlyCpu, type ManyTopicsResult } from '../scenarios/many-topics.js';
import type { Sizes } from '../scenarios/sizes.js';
import { PEER_LABELS, type PeerKind } from './peers.js';
import type { StepResult } from './step.js';

export interface PeerRun {
  capacity?: CapacityResult;
  levels?: FanoutLevel[];
  e2e?: EndToEnd | null;
  manyTopics?: ManyTopicsResult;
  crossInstance?: CrossInstanceResult;
  error?: string;
}

export interface BenchResults {
  startedAt: string;
  quick: boolean;
  runs: Partial<Record<PeerKind, PeerRun>>[];
  machine: { cores: number; cpu: string; node: string; pinning: boolean };
  backends: { database: string; redis: string };
  sizes: Sizes;
  seconds?: number;
}

type Pick = (run: PeerRun) => number | null | undefined;

/** Values of one metric for one peer across runs (failed or missing measurements left out). */
export function valuesOf(results: BenchResults, kind: PeerKind, pick: Pick): number[] {
  return results.runs.map((r) => (r[kind] ? pick(r[kind]!) : null)).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** Pass-only CPU: a lossy step has no CPU figure worth comparing. */
export const passedCpu = (step: StepResult | null | undefined) => (step && step.passed ? step.cpuUsPerDelivery : null);

export const metrics = {
  fanoutCpu: (i: number): Pick => (r) => passedCpu(r.levels?.[i]?.reference),
  fanoutMax: (i: number): Pick => (r) => r.levels?.[i]?.maxDeliveriesPerSec,
  manyCpu: (): Pick => (r) => passedCpu(r.manyTopics?.reference),
  manyDeliveryCpu: (): Pick => (r) => deliveryOnlyCpu(r.manyTopics?.reference, r.manyTopics?.triggerUsPerEvent),
  trigger: (): Pick => (r) => r.manyTopics?.triggerUsPerEvent,
  manyMax: (pattern: 'uniform' | 'skewed'): Pick => (r) => {
    const held = r.manyTopics?.[pattern].filter((s) => s.passed).map((s) => s.ratePerSec) ?? [];
    return held.length ? Math.max(...held) : r.manyTopics ? 0 : null;
  },
  kb: (): Pick => (r) => r.capacity?.kbPerSubscriber,
  storm: (field: 'allSubscribedS' | 'allDeliveringS' | 'deliveringP50S' | 'deliveringP99S' | 'retries' | 'clients'): Pick => (r) => r.capacity?.storm?.[field],
  connect: (): Pick => (r) => r.capacity?.connectPerSec,
  e2e: (label: string, q: 'p50' | 'p99' | 'p999'): Pick => (r) => {
    const point = r.e2e?.points.find((p) => p.label === label);
    // Latency is shown for any step that lost nothing (a slow one is still a measurement); lossy steps show —.
    return point && point.step.missing === 0 && point.step.delivered > 0 ? point.step.latency[q] : null;
  },
};

function range(values: number[], digits: number): string {
  if (values.length === 0) return '—';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const f = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return lo === hi || values.length === 1 ? f(lo) : `${f(lo)}–${f(hi)}`;
}

/** The two floors every peer is compared with: `ws.send` per socket, and one prepared frame written to every socket. */
export type FloorKind = 'floor' | 'floor-prepared';

function ratio(results: BenchResults, kind: PeerKind, pick: Pick, floorKind: FloorKind = 'floor'): string {
  const mine = valuesOf(results, kind, pick);
  const floor = valuesOf(results, floorKind, pick);
  if (!mine.length || !floor.length) return '—';
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  // Ratios per run pair would need equal run counts; the ratio of means with min–max of the peer is enough here.
  return `${(mean(mine) / mean(floor)).toFixed(2)}×`;
}

function failures(results: BenchResults, kind: PeerKind): string[] {
  const out: string[] = [];
  results.runs.forEach((run, i) => {
    const r = run[kind];
    if (!r) return;
    if (r.error) out.push(`run ${i + 1}: ${r.error}`);
    const steps: [string, StepResult][] = [
      ...(r.levels ?? []).flatMap((l) => l.steps.map((s) => [`fan-out ${l.subscribers} @ ${Math.round(s.ratePerSec * l.subscribers)}/s`, s] as [string, StepResult])),
      ...(r.e2e?.points ?? []).map((p) => [`e2e ${p.label}`, p.step] as [string, StepResult]),
      ...(r.manyTopics?.uniform ?? []).map((s) => [`many topics uniform @ ${s.ratePerSec}/s`, s] as [string, StepResult]),
      ...(r.manyTopics?.skewed ?? []).map((s) => [`many topics skewed @ ${s.ratePerSec}/s`, s] as [string, StepResult]),
    ];
    if (r.crossInstance?.step) steps.push(['cross-instance', r.crossInstance.step]);
    for (const [label, s] of steps) if (!s.passed) out.push(`run ${i + 1}, ${label}: FAILED — ${s.reason}`);
    if (r.capacity && !r.capacity.allLive) out.push(`run ${i + 1}, capacity: not every idle subscriber received the check event`);
    const storm = r.capacity?.storm;
    if (storm && storm.notBack > 0) out.push(`run ${i + 1}, reconnect storm: ${storm.notBack} of ${storm.clients} clients not delivering again (${storm.lastError ?? 'no error seen'})`);
  });
  return out;
}

export function renderMarkdown(results: BenchResults): string {
  const kinds = (Object.keys(PEER_LABELS) as PeerKind[]).filter((k) => results.runs.some((r) => r[k]));
  const s = results.sizes;
  const levels = s.fanoutSubscribers;
  const ref = s.referenceDeliveryRate.toLocaleString('en-US');
  const lines: string[] = [];
  lines.push(`# Herald benchmark${results.quick ? ' (--quick smoke run: small N, not for comparison)' : ''}`);
  lines.push('');
  lines.push(
    `${results.startedAt} · ${results.runs.length} run(s), ranges are min–max over runs · ${results.machine.cores} cores (${results.machine.cpu}), Node ${results.machine.node}, ` +
      `pinning ${results.machine.pinning ? 'server+Redis on core 0, load on core 1' : 'off'} · database: ${results.backends.database} · redis: ${results.backends.redis}` +
      (results.seconds ? ` · ${results.seconds} s` : ''),
  );
  lines.push('');
  lines.push('## Ratios to the floors (raw `ws`, no GraphQL): lower is better');
  lines.push('');
  lines.push('Each metric has a column per floor: **÷ naive** is the `ws.send(string)`-per-socket broadcast (`ws` encodes and frames the event again for every socket), **÷ prepared** the broadcast that frames the event once and writes the same Buffer to every socket (the practical limit). `—` where that floor did not run.');
  lines.push('');
  const metricsHead: [string, Pick][] = [
    ...levels.map((n, i) => [`CPU/delivery, fan-out ${n} subs`, metrics.fanoutCpu(i)] as [string, Pick]),
    [`CPU/delivery, ${s.manyTopics}×${s.subscribersPerTopic} topics`, metrics.manyCpu()],
    ['same, trigger excluded', metrics.manyDeliveryCpu()],
    ['KB per idle subscriber', metrics.kb()],
    ['connect+subscribe/s (higher is better)', metrics.connect()],
  ];
  const head = ['peer', ...metricsHead.flatMap(([name]) => [`${name} ÷ naive`, '÷ prepared'])];
  lines.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`);
  for (const k of kinds) {
    lines.push(`| ${PEER_LABELS[k]} | ${metricsHead.flatMap(([, pick]) => [ratio(results, k, pick, 'floor'), ratio(results, k, pick, 'floor-prepared')]).join(' | ')} |`);
  }
  lines.push('');
  lines.push(`CPU is server (+ its own Redis) utime+stime from /proc per delivered message, at ${ref} deliveries/s for fan-out and ${s.manyTopicsReferenceRate} events/s (uniform, 10% re-subscribing each second) for many topics; only steps that delivered everything count; with several runs a ratio is the ratio of the means. "Trigger excluded" subtracts the CPU of the publishing request alone (measured on topics without subscribers: an HTTP mutation carrying the events for the other peers, a real \`updatePost\` write per event for Herald).`);
  lines.push('');
  lines.push('## Absolute figures');
  lines.push('');
  const abs = [
    'peer',
    ...levels.map((n) => `fan-out ${n}: µs CPU/delivery`),
    ...levels.map((n) => `fan-out ${n}: max deliveries/s held`),
    'many topics: µs CPU/delivery',
    'many topics: same, trigger excluded',
    'trigger alone: µs CPU/event',
    'many topics: max events/s held (uniform / skewed)',
    'KB/idle subscriber',
    'connect+subscribe/s',
  ];
  lines.push(`| ${abs.join(' | ')} |`, `| ${abs.map(() => '---').join(' | ')} |`);
  for (const k of kinds) {
    const cells = [
      PEER_LABELS[k],
      ...levels.map((_, i) => range(valuesOf(results, k, metrics.fanoutCpu(i)), 1)),
      ...levels.map((_, i) => range(valuesOf(results, k, metrics.fanoutMax(i)), 0)),
      range(valuesOf(results, k, metrics.manyCpu()), 1),
      range(valuesOf(results, k, metrics.manyDeliveryCpu()), 1),
      range(valuesOf(results, k, metrics.trigger()), 1),
      `${range(valuesOf(results, k, metrics.manyMax('uniform')), 0)} / ${range(valuesOf(results, k, metrics.manyMax('skewed')), 0)}`,
      range(valuesOf(results, k, metrics.kb()), 1),
      range(valuesOf(results, k, metrics.connect()), 0),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  const last = levels.at(-1)!;
  lines.push(`## End to end (${last} subscribers, one HTTP mutation per event on a fixed schedule; mutation sent → subscriber received, ms)`);
  lines.push('');
  const e2eHead = ['peer', `p50 / p99 / p99.9 at ${ref}/s`, 'at 50% of max', 'at 80% of max'];
  lines.push(`| ${e2eHead.join(' | ')} |`, `| ${e2eHead.map(() => '---').join(' | ')} |`);
  for (const k of kinds) {
    const cell = (label: string) => (['p50', 'p99', 'p999'] as const).map((q) => range(valuesOf(results, k, metrics.e2e(label, q)), 1)).join(' / ');
    lines.push(`| ${PEER_LABELS[k]} | ${cell('reference')} | ${cell('50% of max')} | ${cell('80% of max')} |`);
  }
  lines.push('');
  if (kinds.some((k) => valuesOf(results, k, metrics.storm('clients')).length)) {
    lines.push(`## Reconnect storm (every idle subscriber of scenario 1's last level drops its socket at once and reconnects at once, retrying as graphql-ws's client does; one event a second is published meanwhile, so "delivering again" is precise to a second)`);
    lines.push('');
    const stormHead = ['peer', 'clients', 'all subscribed again (s)', 'all delivering again (s)', 'per client: delivering again p50 / p99 (s)', 'retries'];
    lines.push(`| ${stormHead.join(' | ')} |`, `| ${stormHead.map(() => '---').join(' | ')} |`);
    for (const k of kinds) {
      const cell = (field: Parameters<typeof metrics.storm>[0], digits: number) => range(valuesOf(results, k, metrics.storm(field)), digits);
      lines.push(`| ${PEER_LABELS[k]} | ${cell('clients', 0)} | ${cell('allSubscribedS', 2)} | ${cell('allDeliveringS', 2)} | ${cell('deliveringP50S', 2)} / ${cell('deliveringP99S', 2)} | ${cell('retries', 0)} |`);
    }
    lines.push('');
    lines.push('`—`: not every client was back within 120 s (see the failed steps).');
    lines.push('');
  }
  if (kinds.includes('herald-redis')) {
    const local = valuesOf(results, 'herald-redis', (r) => r.crossInstance?.step?.passed ? r.crossInstance.localP50 : null);
    const remote = valuesOf(results, 'herald-redis', (r) => r.crossInstance?.step?.passed ? r.crossInstance.remoteP50 : null);
    const hop = valuesOf(results, 'herald-redis', (r) => r.crossInstance?.step?.passed ? r.crossInstance.remoteP50 - r.crossInstance.localP50 : null);
    const viaRedis = valuesOf(results, 'herald-redis', metrics.e2e('reference', 'p50'));
    const inProcess = valuesOf(results, 'herald', metrics.e2e('reference', 'p50'));
    lines.push('## Cross-instance (two Herald processes through Redis, subscribers split, published on instance A)');
    lines.push('');
    lines.push('| p50 on A (publishing instance) | p50 on B | B − A | Herald p50 via Redis vs in-process (e2e at reference rate) |', '| --- | --- | --- | --- |');
    const redisAdds = viaRedis.length && inProcess.length ? `${range(viaRedis, 1)} vs ${range(inProcess, 1)} ms` : '—';
    lines.push(`| ${range(local, 1)} ms | ${range(remote, 1)} ms | ${range(hop, 1)} ms | ${redisAdds} |`);
    lines.push('');
  }
  const failed = kinds.flatMap((k) => failures(results, k).map((f) => `- ${PEER_LABELS[k]}: ${f}`));
  lines.push('## Failed steps (lost or late deliveries are failures, never "fast")');
  lines.push('');
  lines.push(...(failed.length ? failed : ['- none']));
  lines.push('');
  lines.push('Chart: `latest.svg`. Raw numbers: `latest.json`. How to read and reproduce: `bench/README.md`.');
  lines.push('');
  return lines.join('\n');
}
