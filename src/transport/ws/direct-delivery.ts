import type { ExecutionResult, GraphQLError } from 'graphql';
import type { WebSocket } from 'ws';
import type { EventStream } from '../../realtime/event-stream.js';
import type { Executed, SharedResultStream } from '../../graphql/plugins/shared-execution.js';

/** Below this many unsent bytes a frame counts as delivered at once; above it the next event waits for the write. */
const BACKPRESSURE_BYTES = 16 * 1024;

/** Masks the errors of a result before a client sees it (the same function Yoga's masking uses). */
export type ResultErrorMask = (error: GraphQLError) => Error;

type Write = (result: ExecutionResult) => PromiseLike<unknown> | undefined;

/**
 * The subscribers waiting for one shared execution that is still running. One callback on the
 * execution's promise writes to all of them in a loop, instead of a promise and a microtask per
 * subscriber.
 */
class PendingResult {
  /** Set once the execution settled: later subscribers write at once. */
  result: ExecutionResult | undefined;
  private readonly waiters: { write: Write; resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(execution: Promise<ExecutionResult>) {
    execution.then(
      (result) => {
        this.result = result;
        for (const waiter of this.waiters.splice(0)) {
          try {
            const pending = waiter.write(result);
            if (pending) pending.then(waiter.resolve, waiter.reject);
            else waiter.resolve();
          } catch (error) {
            waiter.reject(error);
          }
        }
      },
      (error: unknown) => {
        for (const waiter of this.waiters.splice(0)) waiter.reject(error);
      },
    );
  }

  /** A thenable that settles once `write` has run with the result (and its own write settled). */
  waitFor(write: Write): PromiseLike<unknown> {
    const waiters = this.waiters;
    return {
      then(resolve, reject) {
        waiters.push({ write, resolve: () => void resolve?.(undefined), reject: (error) => void reject?.(error) });
        return undefined as never;
      },
    };
  }
}

/**
 * The JSON of one shared result, computed once however many subscribers receive it. Keyed by the
 * result object, which lives as long as some subscriber still holds its event.
 */
export class PayloadCache {
  private readonly json = new WeakMap<ExecutionResult, string>();
  private readonly executions = new WeakMap<Promise<ExecutionResult>, PendingResult>();

  constructor(private readonly mask: ResultErrorMask) {}

  /** Writes `result` once it is there: now when already settled, else with every other waiter of the same execution. */
  whenExecuted(execution: Promise<ExecutionResult>, write: Write): PromiseLike<unknown> | undefined {
    let batch = this.executions.get(execution);
    if (!batch) {
      batch = new PendingResult(execution);
      this.executions.set(execution, batch);
    }
    return batch.result ? write(batch.result) : batch.waitFor(write);
  }

  payloadOf(result: ExecutionResult): string {
    let json = this.json.get(result);
    if (json === undefined) {
      const visible = result.errors ? { ...result, errors: result.errors.map((error) => this.mask(error)) } : result;
      json = JSON.stringify(visible);
      this.json.set(result, json);
    }
    return json;
  }
}

/**
 * The WebSocket fast path for one subscription whose source is an EventStream: each event is
 * executed through the shared per-shape execution and written to the socket as a graphql-ws `next`
 * frame built from the shared payload JSON, without an async iterator, promise or serialisation per
 * subscriber. graphql-ws still owns the operation: it iterates this object, which yields nothing and
 * finishes when the stream ends (`complete` frame) or fails (`error` frame, 4413 for a slow
 * consumer), and its `return()` (client `complete`, socket close) stops the stream.
 *
 * While the socket keeps up, an event goes out synchronously; once more than BACKPRESSURE_BYTES are
 * unsent, the next events wait in the subscriber's bounded EventStream (its overflow policy applies),
 * as they would for a slow puller.
 */
export class DirectDelivery implements AsyncIterableIterator<never> {
  private readonly prefix: string;
  private settled = false;
  /** How the stream ended (undefined while it runs; null when it ended normally). */
  private outcome: Error | null | undefined = undefined;
  /** graphql-ws's pending `next()`, settled when the stream ends. */
  private waiter: { resolve: (result: IteratorResult<never>) => void; reject: (error: Error) => void } | null = null;

  constructor(
    private readonly socket: WebSocket,
    id: string,
    private readonly results: SharedResultStream,
    private readonly source: EventStream<unknown>,
    private readonly payloads: PayloadCache,
  ) {
    this.prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    source.pipeTo({
      deliver: (event) => this.deliver(this.results.run(event)),
      end: (error) => this.settle(error),
    });
  }

  private deliver(executed: Executed): PromiseLike<unknown> | undefined {
    if (executed instanceof Promise) return this.payloads.whenExecuted(executed, this.writer);
    return this.write(executed);
  }

  private readonly writer: Write = (result) => this.write(result);

  private write(result: ExecutionResult): Promise<void> | undefined {
    if (this.settled || this.socket.readyState !== this.socket.OPEN) return undefined;
    const frame = this.prefix + this.payloads.payloadOf(result) + '}';
    if (this.socket.bufferedAmount < BACKPRESSURE_BYTES) {
      this.socket.send(frame);
      return undefined;
    }
    return new Promise((resolve) => this.socket.send(frame, () => resolve()));
  }

  private settle(error: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    this.outcome = error;
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter && error) waiter.reject(error);
    else waiter?.resolve({ value: undefined as never, done: true });
    // Yoga's iterator around `results` is not kept (nor returned): its only per-result hook is error
    // masking, which PayloadCache applies, and holding it would keep the envelop state of every subscription.
    void this.results.return().catch(() => undefined);
  }

  // Created on demand (graphql-ws calls it once), not per subscription up front.
  next(): Promise<IteratorResult<never>> {
    if (this.outcome) return Promise.reject(this.outcome);
    if (this.outcome === null) return Promise.resolve({ value: undefined as never, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<never>> {
    this.source.end();
    this.settle(null);
    return { value: undefined as never, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<never>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<never> {
    return this;
  }
}
