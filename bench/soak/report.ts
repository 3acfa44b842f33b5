/** The soak's summary: memory per instance (start, after warm-up, end, slope), events, churn, records, faults. */
import type { FaultResult } from './faults.js';
import type { MergedReport, PoolStatus } from './pool.js';
import { slope, type Sample } from './sampler.js';

export interface MemoryFigures {
  readonly instance: string;
  readonly idleRssMB: number | null;
  readonly startRssMB: number | null;
  readonly warmRssMB: number | null;
  readonly endRssMB: number | null;
  readonly warmHeapMB: number | null;
  readonly endHeapMB: number | null;
  /** V8's heap reservation (heap total) after warm-up and at the end: what RSS follows when live data is flat. */
  readonly warmHeapTotalMB: number | null;
  readonly endHeapTotalMB: number | null;
  /** MB per minute after warm-up, least squares over the samples taken right after a forced GC. */
  readonly rssSlope: number;
  readonly heapSlope: number;
  /** Seconds the slope was fitted over, from when. */
  readonly fittedFrom: number;
  readonly flat: boolean;
}

/** Flat: after warm-up, the fitted RSS and heap growth over the rest of the run stay within 5% (and 15 MB). */
export function memoryFigures(name: string, samples: readonly Sample[], warmupS: number, endS: number, since = 0): MemoryFigures {
  const mine = samples.filter((s) => s.instance === name);
  const gc = mine.filter((s) => s.afterGc && s.t >= 0);
  const from = Math.max(warmupS, since);
  const fitted = gc.filter((s) => s.t >= from);
  const first = (list: readonly Sample[]) => list[0] ?? null;
  const warm = first(fitted);
  const end = gc.at(-1) ?? null;
  const rssSlope = slope(fitted.map((s) => [s.t / 60, s.rssMB]));
  const heapSlope = slope(fitted.map((s) => [s.t / 60, s.heapUsedMB]));
  const minutes = (endS - from) / 60;
  // Only growth counts against flatness: a heap that shrinks after warm-up is not a leak.
  const within = (perMin: number, base: number | undefined) => Number.isFinite(perMin) && base !== undefined && perMin * minutes <= Math.max(15, 0.05 * base);
  return {
    instance: name,
    idleRssMB: mine.find((s) => s.t < 0)?.rssMB ?? null,
    startRssMB: mine.find((s) => s.t >= 0)?.rssMB ?? null,
    warmRssMB: warm?.rssMB ?? null,
    endRssMB: end?.rssMB ?? null,
    warmHeapMB: warm?.heapUsedMB ?? null,
    endHeapMB: end?.heapUsedMB ?? null,
    warmHeapTotalMB: warm?.heapTotalMB ?? null,
    endHeapTotalMB: end?.heapTotalMB ?? null,
    rssSlope,
    heapSlope,
    fittedFrom: from,
    flat: fitted.length >= 3 && within(rssSlope, warm?.rssMB) && within(heapSlope, warm?.heapUsedMB),
  };
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface SoakSummary {
  readonly command: string;
  readonly startedAt: string;
  readonly machine: string;
  readonly settings: Record<string, string | number | boolean>;
  readonly connect: { clients: number; connected: number; failed: number; seconds: number; perSecond: number };
  readonly memory: MemoryFigures[];
  readonly cpu: { instance: string; cpuSeconds: number }[];
  readonly writes: { accepted: Record<string, number>; failed: Record<string, number>; skippedBusy: number; lastError: string | null };
  readonly events: Omit<MergedReport, 'histogram' | 'histograms'> & { latencyMs: Latency; latencyByKind: Record<string, Latency> };
  readonly clientCounters: PoolStatus['counters'];
  readonly tokenRefreshes: { ok: number; failed: number; lastError: string | null };
  readonly records: { withClients: Record<string, number>; socketsOpen: Record<string, number>; afterClientsLeft: Record<string, number>; afterStop: Record<string, number>; afterCleanup: Record<string, number> | null; cleanupOutput: string | null; leftByStopped: Record<string, unknown>[] };
  readonly faults: FaultResult[];
  readonly lastClientError: string | null;
  readonly lastUnstamped: string | null;
  /** Warnings and errors each instance logged, by message; and where the whole log is. */
  readonly serverLog: { instance: string; file: string; logged: Record<string, number> }[];
}

const f1 = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(1));
const lat = (l: Latency | undefined) => (l ? `${l.p50} / ${l.p99} / ${l.p999} / ${l.max}` : '—');
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const kv = (r: Record<string, number>) => (Object.keys(r).length ? Object.entries(r).sort().map(([k, v]) => `${k} ${v}`).join(', ') : 'none');

export function renderSummary(s: SoakSummary): string {
  const e = s.events;
  const lines = [
    `# Herald soak${s.settings.faults ? ' with faults' : ''}`,
    '',
    `\`${s.command}\` · ${s.startedAt} · ${s.machine}`,
    '',
    `Settings: ${Object.entries(s.settings).map(([k, v]) => `${k} ${v}`).join(' · ')}`,
    '',
    `Connected ${s.connect.connected} of ${s.connect.clients} authenticated sockets (${s.connect.failed} failed at first) in ${s.connect.seconds.toFixed(1)} s: ${Math.round(s.connect.perSecond)} connect+subscribe/s across both instances.`,
    '',
    '## Memory per instance (from its /metrics; "after GC" samples follow a forced full GC)',
    '',
    '| instance | RSS idle, before clients | RSS at start (clients connected) | RSS after warm-up (after GC) | RSS at end (after GC) | heap used after warm-up / end (after GC) | heap total after warm-up / end | RSS slope after warm-up | heap-used slope | flat? |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...s.memory.map((m) => `| ${m.instance} | ${f1(m.idleRssMB)} MB | ${f1(m.startRssMB)} MB | ${f1(m.warmRssMB)} MB | ${f1(m.endRssMB)} MB | ${f1(m.warmHeapMB)} / ${f1(m.endHeapMB)} MB | ${f1(m.warmHeapTotalMB)} / ${f1(m.endHeapTotalMB)} MB | ${f1(m.rssSlope)} MB/min | ${f1(m.heapSlope)} MB/min | ${m.flat ? 'yes' : 'NO'} (fitted from ${Math.round(m.fittedFrom)} s) |`),
    '',
    'Flat means the fitted growth (slope × minutes after warm-up) stays below max(15 MB, 5% of the after-warm-up value), for RSS and for heap.',
    '',
    `CPU over the run: ${s.cpu.map((c) => `${c.instance} ${c.cpuSeconds.toFixed(0)} s`).join(', ')}${e.received > 0 ? ` (${((s.cpu.reduce((a, c) => a + c.cpuSeconds, 0) * 1e6) / e.received).toFixed(0)} µs of server CPU per delivered event, churn, renewals, writes and reconnects included)` : ''}.`,
    '',
    '## Durable events',
    '',
    `Writes accepted: ${kv(s.writes.accepted)} (total ${sum(s.writes.accepted)}); failed: ${kv(s.writes.failed)}${s.writes.lastError ? ` (last: ${s.writes.lastError})` : ''}; skipped while the previous write of the same post was in flight: ${s.writes.skippedBusy}.`,
    '',
    '| subscription | clients | expected deliveries | missing | duplicates | write → subscriber p50 / p99 / p99.9 / max (ms) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.entries(e.byKind).map(([k, v]) => `| ${k} | ${v.clients} | ${v.expected} | ${v.missing} | ${v.duplicates} | ${lat(e.latencyByKind[k])} |`),
    `| **all** | ${e.clients} | ${e.expected} | ${e.missing} | ${e.duplicates} | ${lat(e.latencyMs)} |`,
    '',
    `Expected = every accepted write on a client's topic sent after that client's first event arrived (its subscription was live), whatever happened to its socket afterwards. Received (distinct): ${e.received}; clients missing at least one: ${e.clientsMissing} (worst ${e.worstMissing}); received but matching no accepted write: ${e.unmatched}; post updates showing another write's content: ${e.stale}.`,
    '',
    `Clients by events missed: ${e.missingPerClient.map((n, i) => (n ? `${i === e.missingPerClient.length - 1 ? `${i}+` : i}: ${n}` : null)).filter(Boolean).join(', ')}. Per client (written for it vs received) in the JSON: \`events.perClient\` = [client, expected, received, missing, duplicates].`,
    '',
    '## Churn and errors (client side)',
    '',
    kv(s.clientCounters),
    '',
    `Token refreshes (refreshToken through HTTP): ${s.tokenRefreshes.ok} ok, ${s.tokenRefreshes.failed} failed${s.tokenRefreshes.lastError ? ` (last: ${s.tokenRefreshes.lastError})` : ''}. Last client error: ${s.lastClientError ?? 'none'}.${s.lastUnstamped ? ` An event without a write stamp: ${s.lastUnstamped}` : ''}`,
    '',
    '## Connection records (`WebSocketConnection` rows with closedAt null)',
    '',
    `With clients connected: ${kv(s.records.withClients)} (sockets open per /metrics: ${kv(s.records.socketsOpen)}). After every client left: ${kv(s.records.afterClientsLeft)}. After the instances stopped (SIGTERM): ${kv(s.records.afterStop)}.` +
      (s.records.afterCleanup ? ` After \`npm run cli -- cleanup\`: ${kv(s.records.afterCleanup)} (${s.records.cleanupOutput ?? ''}).` : ''),
    '',
    s.records.leftByStopped.length ? `Open rows of processes that were stopped gracefully (first 5): ${s.records.leftByStopped.map((r) => JSON.stringify(r)).join('; ')}` : 'Every process that was stopped gracefully closed all of its rows.',
    '',
  ];
  lines.push('## What the instances logged (warnings and errors, LOG_LEVEL=warn)', '');
  for (const l of s.serverLog) lines.push(`- ${l.instance}: ${Object.keys(l.logged).length ? Object.entries(l.logged).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${v} × ${k}`).join('; ') : 'nothing'}`);
  lines.push('');
  if (s.faults.length) {
    lines.push('## Faults', '', '| at | fault | what happened | healed after | writes failed meanwhile |', '| --- | --- | --- | --- | --- |');
    for (const fault of s.faults) lines.push(`| ${fault.at.toFixed(0)} s | ${fault.name} | ${fault.detail} | ${fault.healedAfter === null ? 'not within 120 s' : `${fault.healedAfter.toFixed(1)} s`} | ${fault.writesFailed} |`);
    lines.push('', 'Healed = every instance answers /ready 200, every client is subscribed again, a write sent after the fault was accepted, and clients on every instance received an event after the fault.', '');
  }
  return lines.join('\n');
}
