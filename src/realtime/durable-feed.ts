import type { Logger } from 'pino';
import { durableEventId, parseDurableEventId, ResumeError } from './event-cursor.js';

/** One row of the event log. */
export interface LoggedEvent {
  readonly position: bigint;
  readonly channel: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** ISO-8601, UTC: the event's `timestamp`. */
  readonly createdAt: string;
}

/** The event log as the feed reads it (data/event-log.ts implements it over the database). */
export interface EventLogReader {
  /** The last position written now, and the log's epoch. */
  head(): Promise<{ readonly position: bigint; readonly epoch: string }>;
  /** Events after `position`, in order, at most `limit`. */
  after(position: bigint, limit: number): Promise<LoggedEvent[]>;
  /**
   * Events of these channels in (after, through], in order, at most `limit`, and, read in the same snapshot,
   * the last position retention has deleted (events after a cursor below it may be gone).
   */
  replay(channels: readonly string[], after: bigint, through: bigint, limit: number): Promise<{ readonly events: LoggedEvent[]; readonly prunedThrough: bigint }>;
  /** Whether an event has this position, and the last position retention has deleted. */
  locate(position: bigint): Promise<{ readonly known: boolean; readonly prunedThrough: bigint }>;
}

/** How a subscriber receives an event of one of its channels; `event` is the payload plus its identity. */
export type DurableListener = (channel: string, event: object) => void;

export interface ResumeFlow {
  /** The `eventId` the client last received. */
  readonly after: string;
  /** Resolves when the subscriber's queue has room for another page of replayed events. */
  readonly room: () => Promise<void>;
  /** The replay failed after the subscription started (retention deleted events it still had to send). */
  readonly failed: (error: Error) => void;
}

interface Subscriber {
  readonly channels: readonly string[];
  readonly listener: DurableListener;
  /** The position of the last event this subscriber was handed (or, replaying, read up to). */
  cursor: bigint;
  /** Live subscribers are handed each new event as the tail reads it; replaying ones read the log themselves. */
  live: boolean;
  closed: boolean;
}

const TAIL_PAGE = 500;
const REPLAY_PAGE = 200;
/** Event objects kept by position, so subscribers replaying the same rows (a reconnect storm) share one. */
const RECENT_EVENTS = 512;

/**
 * Every durable event this instance delivers comes from the event log, read in position order by one tail
 * loop (woken by a doorbell on each write, on Redis coming back, and by a slow timer as a backstop), so
 * subscribers see events in commit order whichever instance wrote them and whether or not the doorbell
 * arrived. A subscriber with a cursor first replays the log after it, page by page as its queue drains,
 * then turns live in the same turn as it reaches the tail's position: no gap and no duplicate at the seam.
 */
export class DurableFeed {
  private position: bigint | null = null;
  private epoch = '';
  private readonly byChannel = new Map<string, Set<Subscriber>>();
  private running: Promise<void> | null = null;
  private again = false;
  private starting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private headQuery: Promise<bigint> | null = null;
  private readonly recent = new Map<bigint, object>();

  constructor(
    private readonly log: EventLogReader,
    private readonly logger: Logger,
    private readonly pollIntervalMs: number,
  ) {}

  /** Reads the log's head (events after it are delivered) and starts the backstop timer. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const head = await this.log.head();
      this.position ??= head.position;
      this.epoch = head.epoch;
      this.timer = setInterval(() => this.poke(), this.pollIntervalMs);
      this.timer.unref();
    })();
    return this.starting;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Something was appended (or may have been while we could not hear): read the log. Coalesced. */
  poke(): void {
    if (this.position === null) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.tail().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /**
   * Listens on `channels`. Without `resume`, every event appended from now on is handed over;
   * with it, first every event after the cursor (ResumeError when the cursor cannot be honoured).
   */
  async subscribe(channels: readonly string[], listener: DurableListener, resume?: ResumeFlow): Promise<() => void> {
    await this.start();
    // From the log's head now, not from where this instance last read (it may be behind on channels
    // nobody here listened to): a new subscription is handed what follows it, not what preceded it.
    const cursor = resume ? await this.validCursor(resume.after) : await this.sharedHead();
    const subscriber: Subscriber = { channels, listener, cursor, live: !resume, closed: false };
    for (const channel of channels) {
      let set = this.byChannel.get(channel);
      if (!set) this.byChannel.set(channel, (set = new Set()));
      set.add(subscriber);
    }
    if (resume) void this.replay(subscriber, resume);
    return () => {
      subscriber.closed = true;
      for (const channel of channels) {
        const set = this.byChannel.get(channel);
        set?.delete(subscriber);
        if (set?.size === 0) this.byChannel.delete(channel);
      }
    };
  }

  /** The log's head, one query for every subscription that asks while it runs (a reconnect storm). */
  private sharedHead(): Promise<bigint> {
    this.headQuery ??= this.log.head().then(
      ({ position }) => {
        this.headQuery = null;
        return position;
      },
      (error: unknown) => {
        this.headQuery = null;
        throw error;
      },
    );
    return this.headQuery;
  }

  private async validCursor(after: string): Promise<bigint> {
    const parsed = parseDurableEventId(after);
    if (!parsed) throw new ResumeError('MALFORMED_CURSOR');
    if (parsed.epoch !== this.epoch) throw new ResumeError('UNKNOWN_CURSOR');
    const { known, prunedThrough } = await this.log.locate(parsed.position);
    if (parsed.position <= prunedThrough) throw new ResumeError('CURSOR_EXPIRED');
    if (!known) throw new ResumeError('UNKNOWN_CURSOR');
    return parsed.position;
  }

  private async replay(subscriber: Subscriber, resume: ResumeFlow): Promise<void> {
    const channels = subscriber.channels;
    try {
      for (;;) {
        if (subscriber.closed) return;
        const through = this.position as bigint;
        // Reached the tail in this turn: from now on the tail hands this subscriber what it reads.
        if (subscriber.cursor >= through) {
          subscriber.live = true;
          return;
        }
        const { events, prunedThrough } = await this.log.replay(channels, subscriber.cursor, through, REPLAY_PAGE);
        if (subscriber.closed) return;
        if (subscriber.cursor < prunedThrough) throw new ResumeError('CURSOR_EXPIRED');
        for (const row of events) this.hand(subscriber, row, this.eventOf(row));
        if (events.length < REPLAY_PAGE) subscriber.cursor = through;
        await resume.room();
      }
    } catch (error) {
      if (!subscriber.closed) resume.failed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private async tail(): Promise<void> {
    try {
      // Nobody here listens: move to the head without reading what nobody would be handed. Only if still
      // nobody listens once it is known, so a subscriber that came meanwhile still gets what follows it.
      if (this.byChannel.size === 0) {
        const { position } = await this.log.head();
        if (this.byChannel.size === 0 && position > (this.position as bigint)) {
          this.position = position;
          return;
        }
      }
      for (;;) {
        const rows = await this.log.after(this.position as bigint, TAIL_PAGE);
        if (rows.length === 0) return;
        // Synchronously with the dispatch, so a replay that reaches this position turns live in step.
        this.position = (rows[rows.length - 1] as LoggedEvent).position;
        for (const row of rows) {
          const subscribers = this.byChannel.get(row.channel);
          if (!subscribers) continue;
          // One event object for every local subscriber of the channel.
          const event = this.eventOf(row);
          for (const subscriber of subscribers) if (subscriber.live) this.hand(subscriber, row, event);
        }
        if (rows.length < TAIL_PAGE) return;
      }
    } catch (error) {
      // The next doorbell or the backstop timer reads again from the same position: nothing is skipped.
      this.logger.warn({ err: error }, 'event log read failed');
    }
  }

  private hand(subscriber: Subscriber, row: LoggedEvent, event: object): void {
    if (row.position <= subscriber.cursor) return;
    subscriber.cursor = row.position;
    try {
      subscriber.listener(row.channel, event);
    } catch (error) {
      // One subscriber's failure must not cost the others this batch.
      this.logger.warn({ err: error, channel: row.channel }, 'durable event handler failed');
    }
  }

  /**
   * One object per event while it is recent: every local subscriber handed it, live or replaying, gets the
   * same object, and shared execution (keyed by the event object) then runs once for all of them.
   */
  private eventOf(row: LoggedEvent): object {
    const known = this.recent.get(row.position);
    if (known) return known;
    const event = { ...row.payload, eventId: durableEventId(row.position, this.epoch), timestamp: row.createdAt };
    this.recent.set(row.position, event);
    if (this.recent.size > RECENT_EVENTS) this.recent.delete(this.recent.keys().next().value as bigint);
    return event;
  }
}
