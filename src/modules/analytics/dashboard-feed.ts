import { EventStream } from '../../realtime/event-stream.js';

/** Anything with a sortable identity (ULID): later ids carry data at least as new. */
export interface Identified {
  readonly eventId: string;
}

export interface DashboardFeedOptions<S extends Identified> {
  /** Computes one snapshot (the expensive part: this feed calls it once per broadcast, not per subscriber). */
  readonly compute: () => Promise<S>;
  /** Starts listening for change signals; resolves once listening, with the function that stops it. */
  readonly listen: (onChange: () => void) => Promise<() => void>;
  /** Broadcasts happen at most this often; changes in between collapse into one trailing broadcast. */
  readonly minIntervalMs: number;
  /** A broadcast happens at least this often, even with no change. */
  readonly maxIntervalMs: number;
  readonly onError: (error: unknown, what: string) => void;
  readonly now?: () => number;
}

interface Subscriber<S> {
  readonly stream: EventStream<S>;
  lastEventId: string;
}

/**
 * One shared snapshot stream per instance: however many dashboards are open, each broadcast computes
 * the snapshot once and hands it to all of them. Change signals are coalesced (at most one broadcast
 * per `minIntervalMs`, the last one always after the last change), and a heartbeat broadcast runs
 * every `maxIntervalMs` without changes. It listens for changes only while someone is subscribed.
 */
export class DashboardFeed<S extends Identified> {
  private readonly subscribers = new Set<Subscriber<S>>();
  private listening: Promise<() => void> | null = null;
  private trailing: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private lastBroadcastAt = Number.NEGATIVE_INFINITY;
  private latest: { snapshot: S; at: number } | null = null;
  private inflight: Promise<S> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: DashboardFeedOptions<S>) {
    this.now = options.now ?? Date.now;
  }

  /**
   * A stream that yields a snapshot at once, then the shared broadcasts. Rejects when listening or the
   * first snapshot fails. Each subscriber holds at most one pending snapshot (keep latest).
   */
  async subscribe(): Promise<AsyncIterableIterator<S>> {
    const subscriber: Subscriber<S> = {
      stream: new EventStream<S>({
        capacity: 1,
        overflow: 'keepLatest',
        // The one queued value is always the newest, so it is never stale enough to drop.
        expiryMs: Number.POSITIVE_INFINITY,
        onClose: () => this.remove(subscriber),
      }),
      lastEventId: '',
    };
    this.subscribers.add(subscriber);
    try {
      await this.ensureListening();
      this.deliver(subscriber, await this.current());
    } catch (error) {
      subscriber.stream.end();
      throw error;
    }
    return subscriber.stream;
  }

  /** A change happened somewhere: broadcast now, or once the minimum interval has passed. */
  changed(): void {
    if (this.subscribers.size === 0 || this.trailing) return;
    const wait = this.lastBroadcastAt + this.options.minIntervalMs - this.now();
    if (wait <= 0) {
      void this.broadcast();
      return;
    }
    this.trailing = setTimeout(() => {
      this.trailing = null;
      void this.broadcast();
    }, wait);
    this.trailing.unref();
  }

  stop(): void {
    for (const subscriber of [...this.subscribers]) subscriber.stream.end();
    this.idle();
  }

  /** A snapshot for a new subscriber: the latest broadcast if it is recent enough, else a shared fresh one. */
  private current(): Promise<S> {
    if (this.latest && this.now() - this.latest.at < this.options.minIntervalMs) return Promise.resolve(this.latest.snapshot);
    if (!this.inflight) {
      const startedAt = this.now();
      this.inflight = this.options
        .compute()
        .then((snapshot) => {
          this.remember(snapshot, startedAt);
          return snapshot;
        })
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
  }

  private async broadcast(): Promise<void> {
    const startedAt = this.now();
    this.lastBroadcastAt = startedAt;
    this.scheduleHeartbeat();
    try {
      // Always a new computation (never the in-flight one): it must see the change that triggered it.
      const snapshot = await this.options.compute();
      this.remember(snapshot, startedAt);
      for (const subscriber of this.subscribers) this.deliver(subscriber, snapshot);
    } catch (error) {
      this.options.onError(error, 'analytics snapshot');
    }
  }

  /** Snapshots can finish out of order; a subscriber only ever moves forward. */
  private deliver(subscriber: Subscriber<S>, snapshot: S): void {
    if (snapshot.eventId <= subscriber.lastEventId) return;
    subscriber.lastEventId = snapshot.eventId;
    subscriber.stream.push(snapshot);
  }

  private remember(snapshot: S, at: number): void {
    if (!this.latest || snapshot.eventId > this.latest.snapshot.eventId) this.latest = { snapshot, at };
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeat) clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => {
      this.heartbeat = null;
      if (this.subscribers.size > 0) void this.broadcast();
    }, this.options.maxIntervalMs);
    this.heartbeat.unref();
  }

  private async ensureListening(): Promise<void> {
    if (!this.listening) {
      this.listening = this.options.listen(() => this.changed());
      this.listening.catch(() => {
        this.listening = null;
      });
      this.scheduleHeartbeat();
    }
    await this.listening;
  }

  private remove(subscriber: Subscriber<S>): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.idle();
  }

  /** Nobody is watching: stop timers and the change listener (the topic stops reaching this instance). */
  private idle(): void {
    if (this.trailing) clearTimeout(this.trailing);
    if (this.heartbeat) clearTimeout(this.heartbeat);
    this.trailing = null;
    this.heartbeat = null;
    const listening = this.listening;
    this.listening = null;
    listening?.then((stop) => stop()).catch((error: unknown) => this.options.onError(error, 'analytics listener stop'));
  }
}
