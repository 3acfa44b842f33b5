/** What a refused operation tells the client (the protocol's `error` message, with extensions.code). */
export interface OperationRefusal {
  readonly error: string;
  readonly code: 'RATE_LIMITED' | 'FORBIDDEN';
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/** A connection refused or ended as a whole: the transport closes its socket with this code. */
export interface ConnectionRefusal {
  readonly code: number;
  readonly reason: string;
}

/**
 * A token bucket per connection: `perSecond` tokens, refilled continuously, so a client may burst up
 * to one second's allowance and then keeps to the rate. Local to the connection (no shared state).
 */
export class OperationRate {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    now = Date.now(),
  ) {
    this.tokens = perSecond;
    this.last = now;
  }

  /** Spends a token; returns 0 when allowed, else the milliseconds until the next token. */
  take(now = Date.now()): number {
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
  }
}

export function tooManyOperations(retryAfterMs: number, perSecond: number): OperationRefusal {
  return {
    error: `Too many operations on this connection (limit ${perSecond}/s); retry in ${retryAfterMs} ms`,
    code: 'RATE_LIMITED',
    extensions: { limit: 'operationsPerSecond', retryAfterMs },
  };
}

export function tooManySubscriptions(max: number): OperationRefusal {
  return {
    error: `This connection already runs ${max} subscriptions (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first`,
    code: 'RATE_LIMITED',
    extensions: { limit: 'subscriptionsPerConnection' },
  };
}
