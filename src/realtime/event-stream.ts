/** What to do when a subscriber's queue is full because its client reads slower than events arrive. */
export type OverflowPolicy =
  /** Keep only the newest value: for streams where each event replaces the previous (stats, dashboards). */
  | 'keepLatest'
  /** Drop the oldest queued events (typing indicators: only recent ones matter). */
  | 'dropOldest'
  /** End the stream with an error: streams where a gap would mislead (notifications, comments). */
  | 'fail';

export interface EventStreamOptions<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  /** Events queued longer than this are dropped instead of being delivered late as if fresh. */
  readonly expiryMs: number;
  /** Called for each dropped event, with why; feeds metrics. */
  readonly onDrop?: (reason: 'overflow' | 'expired') => void;
  /** Called for each event handed to the consumer; feeds delivery metrics. */
  readonly onDeliver?: (value: T, at: number) => void;
  /** Called once when the consumer stops (return/throw) or the stream fails. */
  readonly onClose?: () => void;
  /** Events for which this returns false are never queued. */
  readonly filter?: (value: T) => boolean;
}

/** Thrown into the consumer when a 'fail' stream overflows. */
export class SlowConsumerError extends Error {
  override name = 'SlowConsumerError';
  constructor() {
    super('Subscriber fell too far behind; events would be lost');
  }
}

/**
 * A consumer that is handed events as they arrive instead of pulling them (the WebSocket fast path:
 * no promise per event while the client keeps up).
 */
export interface StreamSink<T> {
  /**
   * Handles one event. A returned promise holds back the next events until it settles (they queue,
   * bounded by `capacity` and subject to the overflow policy and expiry, as for a slow puller); a
   * rejected promise or a throw fails the stream.
   */
  deliver(value: T): PromiseLike<unknown> | undefined;
  /** Called once when the stream ends: with the error when it failed ('fail' overflow), else null. */
  end(error: Error | null): void;
}

interface Queued<T> {
  readonly value: T;
  readonly at: number;
}

/**
 * A bounded push-to-pull queue: producers `push`, the GraphQL executor pulls with `next()`.
 * Memory per subscriber is capped by `capacity` whatever the client's read speed.
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private queue: Queued<T>[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private waitingReject: ((error: unknown) => void) | null = null;
  private done = false;
  private failure: Error | null = null;
  private sink: StreamSink<T> | null = null;
  /** A sink delivery is in flight: arriving events queue until it settles. */
  private sinkBusy = false;
  /** Producers waiting for the queue to drain to half its capacity (a replay reading page by page). */
  private roomWaiters: (() => void)[] = [];
  /**
   * What a pending sink delivery calls back when it settles: made on the first one and kept, rather than two
   * closures per subscriber per event (a fan-out of a result still executing makes one per subscriber).
   */
  private sinkCallbacks: { readonly settled: () => void; readonly failed: (error: unknown) => void } | null = null;

  constructor(private readonly options: EventStreamOptions<T>) {}

  /** Offers an event; returns false when it was filtered out or the stream has ended. */
  push(value: T, at = Date.now()): boolean {
    if (this.done || this.failure) return false;
    if (this.options.filter && !this.options.filter(value)) return false;
    if (this.sink && !this.sinkBusy && this.queue.length === 0) {
      this.options.onDeliver?.(value, at);
      this.hand(value);
      return true;
    }
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.waitingReject = null;
      this.options.onDeliver?.(value, at);
      resolve({ value, done: false });
      return true;
    }
    if (this.queue.length >= this.options.capacity) {
      switch (this.options.overflow) {
        case 'keepLatest':
          this.options.onDrop?.('overflow');
          this.queue.length = 0;
          break;
        case 'dropOldest':
          this.options.onDrop?.('overflow');
          this.queue.shift();
          break;
        case 'fail':
          this.options.onDrop?.('overflow');
          this.fail(new SlowConsumerError());
          return false;
      }
    }
    this.queue.push({ value, at });
    return true;
  }

  /**
   * Puts `value` in front of everything queued: the state a subscription starts with (read after the
   * stream began listening, so a change in between follows it and none is lost). Never filtered, never
   * expires, not subject to the overflow policy.
   */
  unshift(value: T): void {
    if (this.done || this.failure) return;
    if (this.sink && !this.sinkBusy && this.queue.length === 0) {
      this.options.onDeliver?.(value, Date.now());
      this.hand(value);
      return;
    }
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.waitingReject = null;
      this.options.onDeliver?.(value, Date.now());
      resolve({ value, done: false });
      return;
    }
    this.queue.unshift({ value, at: Number.POSITIVE_INFINITY });
  }

  /** Ends the stream with an error: handed to a sink at once, or delivered on the puller's next pull. */
  fail(error: Error): void {
    if (this.done || this.failure) return;
    this.queue.length = 0;
    if (this.sink) {
      const sink = this.sink;
      this.sink = null;
      this.done = true;
      sink.end(error);
    } else {
      this.failure = error;
      if (this.waitingReject) {
        const reject = this.waitingReject;
        this.waiting = null;
        this.waitingReject = null;
        reject(error);
      }
    }
    this.close();
  }

  /**
   * Resolves when the queue is at most half full (at once if it is), or when the stream ends: a producer
   * with many events to give (a replay) pushes a page, then waits here, and so never overflows it.
   */
  whenRoom(): Promise<void> {
    if (this.done || this.failure || this.queue.length <= this.options.capacity / 2) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    if (!this.done && !this.failure && this.queue.length > this.options.capacity / 2) return;
    for (const resolve of this.roomWaiters.splice(0)) resolve();
  }

  /** Number of events waiting for the consumer. */
  get size(): number {
    return this.queue.length;
  }

  /**
   * Switches to push mode: events (those already queued first) are handed to `sink` as they arrive.
   * Once piped, the stream must not be pulled with `next()`; `end()`/`return()` still stop it.
   */
  pipeTo(sink: StreamSink<T>): void {
    if (this.sink || this.waiting) throw new Error('EventStream already has a consumer');
    if (this.done) {
      sink.end(null);
      return;
    }
    this.sink = sink;
    this.drainToSink();
  }

  private hand(value: T): void {
    let pending: PromiseLike<unknown> | undefined;
    try {
      pending = this.sink!.deliver(value);
    } catch (error) {
      this.fail(asError(error));
      return;
    }
    if (!pending) return;
    this.sinkBusy = true;
    this.sinkCallbacks ??= {
      settled: () => {
        this.sinkBusy = false;
        this.drainToSink();
      },
      failed: (error: unknown) => {
        this.sinkBusy = false;
        this.fail(asError(error));
      },
    };
    pending.then(this.sinkCallbacks.settled, this.sinkCallbacks.failed);
  }

  private drainToSink(): void {
    const now = Date.now();
    while (this.sink && !this.sinkBusy) {
      const item = this.takeFresh(now);
      if (!item) return;
      this.hand(item.value);
    }
  }

  /** The oldest queued event that has not expired (counted as delivered), dropping expired ones on the way. */
  private takeFresh(now: number): Queued<T> | undefined {
    while (this.queue.length > 0) {
      const item = this.queue.shift() as Queued<T>;
      // `at` is +Infinity for an unshifted starting state: it never expires.
      if (now - item.at > this.options.expiryMs) {
        this.options.onDrop?.('expired');
        // A gap would mislead here: end with the slow-consumer error rather than skip silently.
        if (this.options.overflow === 'fail') {
          this.fail(new SlowConsumerError());
          return undefined;
        }
        continue;
      }
      this.options.onDeliver?.(item.value, Number.isFinite(item.at) ? item.at : now);
      this.wakeRoomWaiters();
      return item;
    }
    return undefined;
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.takeFresh(Date.now());
    if (item) return Promise.resolve({ value: item.value, done: false });
    if (this.failure) {
      const error = this.failure;
      this.failure = null;
      this.done = true;
      return Promise.reject(error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingReject = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }

  /** Ends the stream normally: a waiting consumer sees `done`. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    if (this.sink) {
      const sink = this.sink;
      this.sink = null;
      sink.end(null);
    }
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.waitingReject = null;
      resolve({ value: undefined, done: true });
    }
    this.close();
  }

  private closed = false;
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeRoomWaiters();
    this.options.onClose?.();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
