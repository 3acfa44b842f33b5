import type { ExecutionResult } from 'graphql';

/**
 * One result as every transport hands it to a client: already masked, serialised at most once
 * however many subscribers (and whichever protocols) receive it. Protocol adapters keep their own
 * framing of it (WeakMap or field) the same way.
 */
export class DeliveredResult {
  private serialised: string | undefined;
  /** The last `framed` answer and its prefix (one protocol is the common case; others are rebuilt). */
  private framedPrefix: string | undefined;
  private framedBytes: Buffer | undefined;

  constructor(readonly result: ExecutionResult) {}

  /** The result's JSON, computed on first use. */
  get json(): string {
    if (this.serialised === undefined) this.serialised = JSON.stringify(this.result);
    return this.serialised;
  }

  /**
   * `prefix + json + '}'` as UTF-8 bytes, encoded once per prefix: the end of a protocol message that
   * is the same for every subscriber of this result (e.g. `"type":"next","payload":<json>}`), written
   * as-is to each of their sockets. Kept on this result only, so it is only ever sent to the
   * subscribers this result was computed for.
   */
  framed(prefix: string): Buffer {
    if (this.framedPrefix !== prefix || this.framedBytes === undefined) {
      this.framedBytes = Buffer.from(prefix + this.json + '}');
      this.framedPrefix = prefix;
    }
    return this.framedBytes;
  }
}

/** Where a push-capable transport wants the results of one subscription. */
export interface ResultSink {
  /**
   * One result. A returned promise holds back the next results until it settles (they wait in the
   * subscriber's bounded stream, whose overflow policy applies); a rejection fails the subscription.
   */
  next(result: DeliveredResult): PromiseLike<unknown> | undefined;
  /** Called once when the subscription's stream ends: with the error when it failed, else null. */
  end(error: Error | null): void;
}
