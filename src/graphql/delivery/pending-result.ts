import type { DeliveredResult, ResultSink } from './delivered-result.js';

interface Waiter {
  readonly sink: ResultSink;
  readonly resolve: ((value: unknown) => unknown) | null | undefined;
  readonly reject: ((error: unknown) => unknown) | null | undefined;
}

/**
 * A shared execution still running, and the subscribers waiting for it. One callback on the execution
 * writes to all of them in a loop when it settles, instead of a promise and a microtask per subscriber.
 */
export class PendingResult {
  /** Set once the execution settled: later subscribers are handed it at once. */
  settled: DeliveredResult | undefined;
  private readonly waiters: Waiter[] = [];

  constructor(readonly promise: Promise<DeliveredResult>) {
    promise.then(
      (delivered) => {
        this.settled = delivered;
        for (const waiter of this.waiters.splice(0)) {
          try {
            const pending = waiter.sink.next(delivered);
            if (pending) pending.then(waiter.resolve, waiter.reject);
            else waiter.resolve?.(undefined);
          } catch (error) {
            waiter.reject?.(error);
          }
        }
      },
      (error: unknown) => {
        for (const waiter of this.waiters.splice(0)) waiter.reject?.(error);
      },
    );
  }

  /** Hands the result to `sink` once there; the returned thenable settles after the sink's own write did. */
  deliverTo(sink: ResultSink): PromiseLike<unknown> | undefined {
    if (this.settled) return sink.next(this.settled);
    const waiters = this.waiters;
    return {
      then(resolve, reject) {
        // The caller's own callbacks, not wrappers: a fan-out makes one waiter per subscriber.
        waiters.push({ sink, resolve, reject });
        return undefined as never;
      },
    };
  }
}
