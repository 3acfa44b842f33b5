/**
 * Memory and load of each instance over time, read from its own `/metrics` (prom-client's default series under
 * `herald_process_`, and Herald's socket gauge), as an operator's Prometheus would see them.
 */
import type { Instance } from './instances.js';

export interface Sample {
  /** Seconds since the soak's clients were connected. */
  readonly t: number;
  readonly instance: string;
  readonly rssMB: number;
  readonly heapUsedMB: number;
  readonly heapTotalMB: number;
  readonly externalMB: number;
  readonly sockets: number;
  readonly cpuSeconds: number;
  /** Taken right after a forced full GC: heap is live data only. */
  readonly afterGc: boolean;
}

const SERIES = {
  rss: 'herald_process_process_resident_memory_bytes',
  heapUsed: 'herald_process_nodejs_heap_size_used_bytes',
  heapTotal: 'herald_process_nodejs_heap_size_total_bytes',
  external: 'herald_process_nodejs_external_memory_bytes',
  cpu: 'herald_process_process_cpu_seconds_total',
  sockets: 'herald_ws_connections_open',
} as const;

/** Sum of a series' samples (labels ignored); NaN when the series is absent. */
export function seriesValue(text: string, name: string): number {
  let total = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    total = (Number.isNaN(total) ? 0 : total) + value;
  }
  return total;
}

export async function sample(instance: Instance, t: number, afterGc: boolean): Promise<Sample | null> {
  if (!instance.running) return null;
  try {
    const text = await (await fetch(`${instance.baseUrl}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const mb = (name: string) => Math.round((seriesValue(text, name) / 1048576) * 10) / 10;
    return {
      t: Math.round(t * 10) / 10,
      instance: instance.name,
      rssMB: mb(SERIES.rss),
      heapUsedMB: mb(SERIES.heapUsed),
      heapTotalMB: mb(SERIES.heapTotal),
      externalMB: mb(SERIES.external),
      sockets: seriesValue(text, SERIES.sockets),
      cpuSeconds: seriesValue(text, SERIES.cpu),
      afterGc,
    };
  } catch {
    return null; // down or too busy to answer in 3 s: a gap in the chart, not a zero
  }
}

/** Least-squares slope of y over x. */
export function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}
