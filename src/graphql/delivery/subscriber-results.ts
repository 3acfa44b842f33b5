import type { ExecutionResult } from 'graphql';
import { EventStream, type StreamSink } from '../../realtime/event-stream.js';
import { DeliveredResult, type ResultSink } from './delivered-result.js';
import { PendingResult } from './pending-result.js';

/** One event's shared result: there already, or still executing. */
export type SharedOutcome = DeliveredResult | PendingResult;

/** What executes (or joins the shared execution of) one source event for a subscriber of `shape`. */
export interface OutcomeSource<A, S> {
  resultFor(args: A, shape: S, event: unknown): SharedOutcome;
}

/**
 * The results of one subscriber: its own source events (its bounded, filtered stream), each executed
 * once per shape and shared. Pulled like any async iterator (Yoga's SSE, or a WebSocket operation whose
 * pipeline wraps results), or piped to a sink with `pipeTo` (push: no iterator step, promise or
 * serialisation per subscriber and event while the client keeps up).
 */
export class SubscriberResults<A = unknown, S = unknown> implements AsyncIterableIterator<ExecutionResult>, StreamSink<unknown> {
  private piped = false;
  /** Where pushed results go (pipeTo over an EventStream, which then calls `deliver` and `end` here). */
  private sink: ResultSink | undefined;

  constructor(
    private readonly source: AsyncIterator<unknown>,
    // The executor and this subscriber's arguments and shape as fields, not a closure over them: a
    // closure and its context per subscriber cost more memory than three references.
    private readonly executor: OutcomeSource<A, S>,
    private readonly args: A,
    private readonly shape: S,
    /** Masks a stream failure for a puller (push sinks get the error itself: they act on its kind). */
    private readonly mask: (error: unknown) => Error,
  ) {}

  async next(): Promise<IteratorResult<ExecutionResult>> {
    try {
      const step = await this.source.next();
      if (step.done) return { value: undefined, done: true };
      const outcome = this.executor.resultFor(this.args, this.shape, step.value);
      const delivered = outcome instanceof DeliveredResult ? outcome : await outcome.promise;
      return { value: delivered.result, done: false };
    } catch (error) {
      throw this.mask(error);
    }
  }

  /**
   * Hands every result to `sink` as its event arrives, until the stream ends (`sink.end`) or `return()`
   * stops it. Backpressure: while a `sink.next` promise is pending, events wait in the subscriber's stream.
   */
  pipeTo(sink: ResultSink): void {
    if (this.piped) throw new Error('SubscriberResults already piped');
    this.piped = true;
    if (this.source instanceof EventStream) {
      // This object is the stream's sink (no closures per subscriber): `deliver` and `end` below.
      this.sink = sink;
      (this.source as EventStream<unknown>).pipeTo(this);
      return;
    }
    void this.pump(sink);
  }

  /** StreamSink, once piped: one source event, executed (or joined) and handed to the sink. */
  deliver(event: unknown): PromiseLike<unknown> | undefined {
    const outcome = this.executor.resultFor(this.args, this.shape, event);
    return outcome instanceof DeliveredResult ? this.sink!.next(outcome) : outcome.deliverTo(this.sink!);
  }

  /** StreamSink, once piped: the source ended. */
  end(error: Error | null): void {
    this.sink!.end(error);
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    if (this.source.throw) await this.source.throw(error);
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }

  /** Push over a source that is not an EventStream: pull it here, one event at a time. */
  private async pump(sink: ResultSink): Promise<void> {
    try {
      for (;;) {
        const step = await this.source.next();
        if (step.done) break;
        const outcome = this.executor.resultFor(this.args, this.shape, step.value);
        await (outcome instanceof DeliveredResult ? sink.next(outcome) : outcome.deliverTo(sink));
      }
      sink.end(null);
    } catch (error) {
      sink.end(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
