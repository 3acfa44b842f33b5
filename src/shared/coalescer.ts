interface KeyState {
  lastFlush: number;
  trailing: NodeJS.Timeout | null;
}

const SWEEP_ABOVE = 10_000;

/**
 * Runs `flush(key)` at most once per `intervalMs` per key: the first touch after a quiet period
 * flushes at once, touches during the interval collapse into one trailing flush. A burst of 1,000
 * touches in a second therefore costs a handful of flushes, and the last flush always follows the
 * last touch (so the final value is never stale).
 */
export class Coalescer<K> {
  private readonly state = new Map<K, KeyState>();

  constructor(
    private readonly intervalMs: number,
    private readonly flush: (key: K) => void,
    private readonly now: () => number = Date.now,
  ) {}

  touch(key: K): void {
    const now = this.now();
    const entry = this.state.get(key);
    if (!entry || (!entry.trailing && now - entry.lastFlush >= this.intervalMs)) {
      if (!entry && this.state.size >= SWEEP_ABOVE) this.sweep(now);
      this.state.set(key, { lastFlush: now, trailing: null });
      this.flush(key);
      return;
    }
    if (entry.trailing) return;
    entry.trailing = setTimeout(() => {
      entry.trailing = null;
      entry.lastFlush = this.now();
      this.flush(key);
    }, entry.lastFlush + this.intervalMs - now);
    entry.trailing.unref();
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.state) {
      if (!entry.trailing && now - entry.lastFlush >= this.intervalMs) this.state.delete(key);
    }
  }

  /** Drops pending flushes (shutdown). */
  clear(): void {
    for (const entry of this.state.values()) if (entry.trailing) clearTimeout(entry.trailing);
    this.state.clear();
  }
}
