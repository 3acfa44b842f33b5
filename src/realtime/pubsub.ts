import { randomUUID } from 'node:crypto';
import type { DurableFeed } from './durable-feed.js';
import type { PubSubEngine } from './engine.js';
import { newEventIdentity } from './event-id.js';
import { EventStream, type EventStreamOptions, type OverflowPolicy } from './event-stream.js';
import { DURABLE_TOPICS, type EventIdentity, type Topic, type TopicEvent, type TopicKey, type TopicPayloads } from './topics.js';

/**
 * What a durable topic's channel carries: only "the log has a new event here" (the event is read from the
 * log), and, when the writer already woke its own feed for it, which PubSub rang, so that one ignores it.
 */
interface DoorbellRing {
  readonly from?: string;
}

/** A ring every listener heeds, the writer too (it had no local subscriber of the topic when it wrote). */
const ANONYMOUS_RING: DoorbellRing = Object.freeze({});

export interface StreamLimits {
  readonly capacity: number;
  readonly expiryMs: number;
}

export interface SubscribeOptions<K extends TopicKey> {
  readonly overflow?: OverflowPolicy;
  readonly filter?: (event: TopicEvent<K>) => boolean;
  /** Durable topics only: first every event after this `eventId` (ResumeError when it cannot be honoured). */
  readonly after?: string | null | undefined;
}

export interface SubscribeManyOptions {
  readonly overflow?: OverflowPolicy;
  /** Durable topics only: first every event after this `eventId` (ResumeError when it cannot be honoured). */
  readonly after?: string | null | undefined;
}

/** One topic of a merged stream, with the filter its events must pass. */
export interface TopicSource<K extends TopicKey> {
  readonly topic: Topic<K>;
  readonly filter?: ((event: TopicEvent<K>) => boolean) | undefined;
}

interface Doorbell {
  listeners: number;
  readonly subscribed: Promise<() => void>;
}

/** Counters the metrics module reads; kept here so realtime/ has no dependency on metrics. */
export interface PubSubObserver {
  published?(key: TopicKey): void;
  dropped?(key: TopicKey, reason: 'overflow' | 'expired'): void;
  streamOpened?(key: TopicKey): void;
  streamClosed?(key: TopicKey): void;
  /** An event handed to a subscriber; `publishedAtMs` is its publication time (publish→deliver latency). */
  delivered?(key: TopicKey, publishedAtMs: number): void;
}

/**
 * The one typed pub/sub. `publish` stamps every payload with an event identity; `subscribe` returns a
 * bounded stream that is already listening when the promise resolves, so nothing published after it
 * is missed.
 */
export class PubSub {
  private readonly open = new Map<TopicKey, number>();
  private readonly hooks = new Map<TopicKey, Pick<EventStreamOptions<unknown>, 'onDrop' | 'onDeliver'>>();
  /** Durable channels this instance listens to for doorbells, with how many local subscribers need each. */
  private readonly doorbells = new Map<string, Doorbell>();
  /** The topic each event of a merged stream came on (events are shared objects: one entry per event). */
  private readonly topicOfEvent = new WeakMap<object, TopicKey>();
  /** The ring of a write whose local subscribers this PubSub already woke: `from` is this PubSub's own. */
  private readonly ownRing: Required<DoorbellRing> = Object.freeze({ from: randomUUID() });

  constructor(
    private readonly engine: PubSubEngine,
    private readonly limits: StreamLimits,
    private readonly namespace: string,
    private readonly observer: PubSubObserver = {},
    /** Where durable topics' events come from; without it (unit tests) they travel through the engine too. */
    private readonly feed: DurableFeed | null = null,
  ) {}

  /** Starts reading the event log (a no-op without a feed). */
  async start(): Promise<void> {
    if (!this.feed) return;
    const feed = this.feed;
    await feed.start();
    // Doorbells rung while Redis was away were lost, not the events: read the log once it is back.
    this.engine.onRestored?.(() => feed.poke());
  }

  /**
   * Rings the doorbell of a durable topic after a write appended to it: the instances with subscribers of
   * that topic (and only they: the ring travels on the topic's own channel) read the log. A lost ring
   * costs latency, never an event: the log is read again when Redis is back, and on a timer. This
   * instance's own subscribers do not wait for the ring to come back through Redis: the feed reads now
   * (the write has committed), and the returning ring is ignored.
   */
  appended<K extends TopicKey>(topic: Topic<K>): void {
    const feed = this.feed;
    if (!feed) return;
    const heardHere = this.doorbells.has(topic.channel);
    if (heardHere) feed.poke();
    this.engine.publish(this.namespace + topic.channel, heardHere ? this.ownRing : ANONYMOUS_RING).catch(() => feed.poke());
    // The write's event is this instance's publication, as a published ephemeral event is.
    this.observer.published?.(topic.key);
  }

  get kind(): PubSubEngine['kind'] {
    return this.engine.kind;
  }

  /**
   * `beforeSend` sees the stamped event before any subscriber can: the publisher may remember what
   * local subscribers will ask for (the row it just wrote) under the event's id.
   */
  async publish<K extends TopicKey>(topic: Topic<K>, payload: TopicPayloads[K], beforeSend?: (event: TopicEvent<K>) => void): Promise<TopicEvent<K>> {
    if (this.feed && DURABLE_TOPICS.has(topic.key)) throw new Error(`${topic.key} events are appended to the event log by the database, not published`);
    const event = { ...payload, ...newEventIdentity() } as TopicEvent<K>;
    beforeSend?.(event);
    await this.engine.publish(this.namespace + topic.channel, event);
    this.observer.published?.(topic.key);
    return event;
  }

  async subscribe<K extends TopicKey>(topic: Topic<K>, options: SubscribeOptions<K> = {}): Promise<EventStream<TopicEvent<K>>> {
    return this.subscribeMany<K>([{ topic, filter: options.filter }], { overflow: options.overflow, after: options.after });
  }

  /**
   * One bounded stream of the events of several topics, in arrival order (a viewer's own notifications
   * and the broadcast ones). Each source has its own filter; an event that fails it is never queued.
   * Listening on every topic has begun when the promise resolves; closing the stream stops them all.
   */
  async subscribeMany<K extends TopicKey>(sources: readonly TopicSource<K>[], options: SubscribeManyOptions = {}): Promise<EventStream<TopicEvent<K>>> {
    let unsubscribes: (() => void)[] = [];
    /** Counted in `open` (once listening), so a stream that never got there is never subtracted. */
    let counted = false;
    let closed = false;
    const key = sources[0]?.topic.key;
    if (key === undefined) throw new Error('subscribeMany needs at least one topic');
    const hooks = sources.length === 1 ? this.observerHooks(key) : this.mergedHooks(key);
    // Every property named in the literal (no spread), so the options kept per stream hold them in the object.
    const stream = new EventStream<TopicEvent<K>>({
      capacity: this.limits.capacity,
      expiryMs: this.limits.expiryMs,
      overflow: options.overflow ?? 'fail',
      onDrop: hooks.onDrop,
      onDeliver: hooks.onDeliver,
      onClose: () => {
        closed = true;
        for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
        if (counted) for (const { topic } of sources) this.open.set(topic.key, (this.open.get(topic.key) ?? 1) - 1);
        counted = false;
        for (const source of sources) this.observer.streamClosed?.(source.topic.key);
      },
    });
    for (const source of sources) this.observer.streamOpened?.(source.topic.key);
    const durable = this.feed !== null && sources.every((source) => DURABLE_TOPICS.has(source.topic.key));
    if (options.after != null && !durable) throw new Error('`after` needs durable topics');
    try {
      if (durable) await this.listenDurable(sources, stream, options.after ?? undefined, unsubscribes, () => closed);
      else await Promise.all(
        sources.map(async ({ topic, filter }) => {
          const unsubscribe = await this.engine.subscribe(this.namespace + topic.channel, (message) => {
            const event = message as TopicEvent<K>;
            if (filter && !filter(event)) return;
            if (sources.length > 1) this.topicOfEvent.set(event, topic.key);
            stream.push(event, publishedAtMs(event) || Date.now());
          });
          // The consumer may have gone while Redis confirmed the subscription.
          if (closed) unsubscribe();
          else unsubscribes.push(unsubscribe);
        }),
      );
    } catch (error) {
      stream.end();
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      throw error;
    }
    if (!closed) {
      counted = true;
      for (const { topic } of sources) this.open.set(topic.key, (this.open.get(topic.key) ?? 0) + 1);
      // Kept for the stream's life: a copy holds its few entries, where the array pushes grew holds 17 slots.
      unsubscribes = unsubscribes.slice();
    }
    return stream;
  }

  /**
   * Durable topics listen on the event log's feed, as one subscriber over all their channels (so a replay
   * reads them together, in log order). Their queue time counts from arrival here: a replayed event is old
   * by nature, and the database's clock is not this instance's.
   */
  private async listenDurable<K extends TopicKey>(
    sources: readonly TopicSource<K>[],
    stream: EventStream<TopicEvent<K>>,
    after: string | undefined,
    unsubscribes: (() => void)[],
    isClosed: () => boolean,
  ): Promise<void> {
    const channels = sources.map((source) => source.topic.channel);
    const single = sources.length === 1 ? sources[0] : undefined;
    const listener = single
      ? (_channel: string, message: object) => {
          const event = message as TopicEvent<K>;
          if (!single.filter || single.filter(event)) stream.push(event, Date.now());
        }
      : (channel: string, message: object) => {
          const source = sources.find((s) => s.topic.channel === channel);
          const event = message as TopicEvent<K>;
          if (!source || (source.filter && !source.filter(event))) return;
          this.topicOfEvent.set(event, source.topic.key);
          stream.push(event, Date.now());
        };
    const feed = this.feed as DurableFeed;
    const resume = after === undefined ? undefined : { after, room: () => stream.whenRoom(), failed: (error: Error) => stream.fail(error) };
    unsubscribes.push(await feed.subscribe(channels, listener, resume));
    // Then the topics' doorbells: once Redis confirms them, every later write reaches this subscriber.
    for (const channel of channels) unsubscribes.push(await this.listenDoorbell(channel));
    if (isClosed()) for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
  }

  /** Wakes the feed when another instance rings a durable topic's doorbell (one function for every channel). */
  private readonly ringHeard = (message: unknown): void => {
    if ((message as DoorbellRing | null)?.from === this.ownRing.from) return;
    this.feed?.poke();
  };

  /**
   * One engine subscription per durable channel for the whole instance, however many local subscribers it
   * has (the feed hands each its events): subscribers cost no Redis listener of their own.
   */
  private async listenDoorbell(channel: string): Promise<() => void> {
    let bell = this.doorbells.get(channel);
    if (!bell) {
      const created: Doorbell = { listeners: 0, subscribed: this.engine.subscribe(this.namespace + channel, this.ringHeard) };
      created.subscribed.catch(() => {
        if (this.doorbells.get(channel) === created) this.doorbells.delete(channel);
      });
      this.doorbells.set(channel, created);
      bell = created;
    }
    const current = bell;
    current.listeners++;
    try {
      await current.subscribed;
    } catch (error) {
      current.listeners--;
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--current.listeners > 0) return;
      if (this.doorbells.get(channel) === current) this.doorbells.delete(channel);
      current.subscribed.then((unsubscribe) => unsubscribe(), () => undefined);
    };
  }

  /**
   * Hooks of a stream over several topics: a delivery is counted under the topic its event came on (a
   * drop, whose event the stream does not hand over, under the first topic).
   */
  private mergedHooks(key: TopicKey): Pick<EventStreamOptions<unknown>, 'onDrop' | 'onDeliver'> {
    return {
      onDrop: (reason) => this.observer.dropped?.(key, reason),
      onDeliver: (event, at) => this.observer.delivered?.(this.topicOfEvent.get(event as object) ?? key, at),
    };
  }

  /**
   * The stream hooks feeding the observer, one pair per topic kind shared by all its streams (not two
   * closures per subscriber). `at` is the publication time the stream parsed when the event arrived.
   */
  private observerHooks(key: TopicKey): Pick<EventStreamOptions<unknown>, 'onDrop' | 'onDeliver'> {
    let hooks = this.hooks.get(key);
    if (!hooks) {
      hooks = {
        onDrop: (reason) => this.observer.dropped?.(key, reason),
        onDeliver: (_event, at) => this.observer.delivered?.(key, at),
      };
      this.hooks.set(key, hooks);
    }
    return hooks;
  }

  /** A plain callback listener for server-internal reactions (revoked sessions, visibility changes). */
  async listen<K extends TopicKey>(topic: Topic<K>, handler: (event: TopicEvent<K>) => void): Promise<() => void> {
    return this.engine.subscribe(this.namespace + topic.channel, (message) => handler(message as TopicEvent<K>));
  }

  /** Streams of this topic kind currently listening on this instance (tests wait on it). */
  openStreams(key: TopicKey): number {
    return this.open.get(key) ?? 0;
  }

  isHealthy(): Promise<boolean> {
    return this.engine.isHealthy();
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

// One event object reaches every local subscriber of its channel in a row: remember the last parse
// instead of parsing the same ISO timestamp twice per subscriber.
let lastEvent: EventIdentity | null = null;
let lastPublishedAt = Number.NaN;

/** The event's publication time in ms since the epoch (NaN when its timestamp does not parse). */
function publishedAtMs(event: EventIdentity): number {
  if (event !== lastEvent) {
    lastPublishedAt = Date.parse(event.timestamp);
    lastEvent = event;
  }
  return lastPublishedAt;
}
