/** A visitor counts as live this long after it was last seen. */
export const LIVE_WINDOW_MS = 5 * 60_000;

/**
 * Where last-seen times live: this process's memory, or Redis so every instance counts the same
 * visitors. Entries older than the window must stop counting on their own (no cleanup job needed).
 */
export interface VisitorStore {
  /** Records that these visitors were seen at `at` (epoch ms). */
  touch(visitorIds: readonly string[], at: number): Promise<void>;
  /** Distinct visitors seen at or after `since` (epoch ms); may forget older entries while at it. */
  countSince(since: number): Promise<number>;
}

export class MemoryVisitorStore implements VisitorStore {
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  touch(visitorIds: readonly string[], at: number): Promise<void> {
    // Bounded memory: when the map is large, forget visitors that can no longer count.
    if (this.lastSeen.size > 10_000) this.forgetBefore(this.now() - this.windowMs);
    for (const id of visitorIds) this.lastSeen.set(id, Math.max(at, this.lastSeen.get(id) ?? 0));
    return Promise.resolve();
  }

  countSince(since: number): Promise<number> {
    this.forgetBefore(since);
    return Promise.resolve(this.lastSeen.size);
  }

  private forgetBefore(cutoff: number): void {
    for (const [id, at] of this.lastSeen) if (at < cutoff) this.lastSeen.delete(id);
  }
}

export interface LiveVisitorOptions {
  readonly windowMs?: number;
  /** How often visitors with an open connection are re-marked (must be well inside the window). */
  readonly refreshMs?: number;
  readonly now?: () => number;
  readonly onError?: (error: unknown, what: string) => void;
}

/**
 * Live visitors: distinct ids seen (a page view, or an open WebSocket connection) within the window.
 * Visitors holding a connection on this instance are re-marked periodically, so they stay live while
 * connected; if this instance dies, its visitors simply age out of the shared store.
 */
export class LiveVisitorTracker {
  private readonly windowMs: number;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly onError: (error: unknown, what: string) => void;
  /** Open connections per visitor on this instance. */
  private readonly openConnections = new Map<string, number>();
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: VisitorStore,
    options: LiveVisitorOptions = {},
  ) {
    this.windowMs = options.windowMs ?? LIVE_WINDOW_MS;
    this.refreshMs = options.refreshMs ?? Math.floor(this.windowMs / 3);
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
  }

  /** The visitor did something (e.g. viewed a page) just now. */
  seen(visitorId: string): Promise<void> {
    return this.store.touch([visitorId], this.now());
  }

  /** The visitor opened a connection: live now and for as long as one of its connections stays open. */
  async connected(visitorId: string): Promise<void> {
    this.openConnections.set(visitorId, (this.openConnections.get(visitorId) ?? 0) + 1);
    this.ensureRefreshing();
    await this.seen(visitorId);
  }

  /** One of the visitor's connections closed: it stays live for the window from now, then ages out. */
  async disconnected(visitorId: string): Promise<void> {
    const left = (this.openConnections.get(visitorId) ?? 1) - 1;
    if (left > 0) this.openConnections.set(visitorId, left);
    else this.openConnections.delete(visitorId);
    if (this.openConnections.size === 0) this.stopRefreshing();
    await this.seen(visitorId);
  }

  /** Distinct visitors seen within the window. */
  count(): Promise<number> {
    return this.store.countSince(this.now() - this.windowMs);
  }

  stop(): void {
    this.stopRefreshing();
    this.openConnections.clear();
  }

  private ensureRefreshing(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setInterval(() => {
      if (this.openConnections.size === 0) return;
      this.store.touch([...this.openConnections.keys()], this.now()).catch((error: unknown) => this.onError(error, 'live visitor refresh'));
    }, this.refreshMs);
    this.refreshTimer.unref();
  }

  private stopRefreshing(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
  }
}
