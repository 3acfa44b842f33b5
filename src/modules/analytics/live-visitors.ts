import { WriteBatcher } from '../../shared/write-batcher.js';
import type { VisitorStore } from './visitor.store.js';

/** A visitor counts as live this long after it was last seen. */
export const LIVE_WINDOW_MS = 5 * 60_000;

export interface LiveVisitorOptions {
  readonly windowMs?: number;
  /** How often visitors with an open connection are re-marked (must be well inside the window). */
  readonly refreshMs?: number;
  readonly now?: () => number;
  readonly onError?: (error: unknown, what: string) => void;
  /** Marks of connections opening and closing within this long go to the store as one write. */
  readonly connectionMarkWindowMs?: number;
}

/**
 * Connections arrive one per event-loop turn even in a reconnect storm, so a batch of one turn holds one
 * mark: a Redis MULTI per connection was a tenth of the CPU of connecting. Over 50 ms they share one; the
 * dashboards are told after the write, and a count on this instance writes what is pending first.
 */
const CONNECTION_MARK_WINDOW_MS = 50;

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
  /** Marks asked for in one event-loop turn go to the store as one write. */
  private readonly marks: WriteBatcher<string>;
  /** Marks of connections opened or closed, written over a window (a reconnect storm marks thousands). */
  private readonly connectionMarks: WriteBatcher<string>;

  constructor(
    private readonly store: VisitorStore,
    options: LiveVisitorOptions = {},
  ) {
    this.windowMs = options.windowMs ?? LIVE_WINDOW_MS;
    this.refreshMs = options.refreshMs ?? Math.floor(this.windowMs / 3);
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
    const touch = (visitorIds: string[]) => this.store.touch([...new Set(visitorIds)], this.now());
    this.marks = new WriteBatcher(touch);
    this.connectionMarks = new WriteBatcher(touch, 500, options.connectionMarkWindowMs ?? CONNECTION_MARK_WINDOW_MS);
  }

  /** The visitor did something (e.g. viewed a page) just now. */
  seen(visitorId: string): Promise<void> {
    return this.marks.add(visitorId);
  }

  /** The visitor opened a connection: live now and for as long as one of its connections stays open. */
  async connected(visitorId: string): Promise<void> {
    this.openConnections.set(visitorId, (this.openConnections.get(visitorId) ?? 0) + 1);
    this.ensureRefreshing();
    await this.connectionMarks.add(visitorId);
  }

  /** One of the visitor's connections closed: it stays live for the window from now, then ages out. */
  async disconnected(visitorId: string): Promise<void> {
    const left = (this.openConnections.get(visitorId) ?? 1) - 1;
    if (left > 0) this.openConnections.set(visitorId, left);
    else this.openConnections.delete(visitorId);
    if (this.openConnections.size === 0) this.stopRefreshing();
    await this.connectionMarks.add(visitorId);
  }

  /** Distinct visitors seen within the window (connections of this instance included at once). */
  async count(): Promise<number> {
    // A failed write is its callers' to report (connectionChanged); flush() itself never rejects.
    await this.connectionMarks.flush();
    return this.store.countSince(this.now() - this.windowMs);
  }

  stop(): void {
    this.stopRefreshing();
    this.openConnections.clear();
    // Written now, while the store is still open, rather than when the window ends.
    void this.connectionMarks.flush();
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
