/** Something that wants a `heartbeat` message on every tick. */
export interface HeartbeatTarget {
  heartbeat(at: string): void;
}

/**
 * The old server's `{"type": "heartbeat", "timestamp"}` every WS_HEARTBEAT_INTERVAL, from one timer for
 * every old-endpoint socket (not one per socket). The timer runs only while a socket is registered.
 */
export class LegacyHeartbeat {
  private readonly targets = new Set<HeartbeatTarget>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  add(target: HeartbeatTarget): void {
    this.targets.add(target);
    if (this.timer || !(this.intervalMs > 0) || !Number.isFinite(this.intervalMs)) return;
    this.timer = setInterval(() => {
      const at = new Date().toISOString();
      for (const each of this.targets) each.heartbeat(at);
    }, this.intervalMs);
    this.timer.unref();
  }

  delete(target: HeartbeatTarget): void {
    this.targets.delete(target);
    if (this.targets.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}
