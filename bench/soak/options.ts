/** `npm run soak` flags; every one has a default, so `npm run soak` alone is the full 10-minute, 10,000-socket run. */
export interface SoakOptions {
  readonly minutes: number;
  readonly clients: number;
  readonly faults: boolean;
  readonly warmupMinutes: number;
  /** JWT_ACCESS_TTL of the instances: short, so tokens expire (and are renewed) during the run. */
  readonly tokenTtlSeconds: number;
  /** Share of clients that never renew: closed with 4403 at expiry, they reconnect with a fresh token. */
  readonly expiringShare: number;
  /** Shares of all clients per second: dropping their socket and reconnecting; completing and subscribing again. */
  readonly reconnectShare: number;
  readonly resubscribeShare: number;
  readonly updatesPerSec: number;
  readonly commentsPerSec: number;
  readonly alertsPerSec: number;
  readonly posts: number;
  /** Sockets per reader account. */
  readonly socketsPerReader: number;
  readonly sampleSeconds: number;
  readonly gcEverySeconds: number;
  readonly out: string;
}

function value(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function number(name: string, fallback: number, min = 0): number {
  const raw = value(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} expects a number ≥ ${min} (got ${raw})`);
  return n;
}

export function parseOptions(defaultOut: string): SoakOptions {
  const minutes = number('minutes', 10, 0.5);
  const faults = process.argv.includes('--faults');
  return {
    minutes,
    clients: Math.round(number('clients', 10_000, 10)),
    faults,
    // Three minutes: V8 is still growing its heap spaces to the load at two (RSS rising, heap used flat).
    warmupMinutes: number('warmup-minutes', Math.min(3, minutes * 0.3)),
    tokenTtlSeconds: number('token-ttl', minutes >= 5 ? 180 : 60, 20),
    expiringShare: number('expiring', 0.1),
    reconnectShare: number('reconnect', 0.005),
    resubscribeShare: number('resubscribe', 0.005),
    updatesPerSec: number('updates', 4),
    commentsPerSec: number('comments', 2),
    // Each alert reaches every notifications subscriber (a third of the clients): at 0.5/s that was ~1,700
    // deliveries a second on top of the rest, more than two cores running both instances, PostgreSQL, Redis and
    // 10,000 clients carry (p99 9.6 s, database pool timeouts). The soak measures stability at a load it holds.
    alertsPerSec: number('alerts', 0.15),
    posts: Math.round(number('posts', 20, 1)),
    socketsPerReader: Math.round(number('sockets-per-reader', 50, 1)),
    sampleSeconds: number('sample', 5, 1),
    gcEverySeconds: number('gc-every', 30, 5),
    out: value('out') ?? defaultOut,
  };
}
