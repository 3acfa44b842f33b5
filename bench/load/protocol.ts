/** Messages between the harness and its load workers (Node IPC). */
export interface ClientSpec {
  readonly postId: string;
  readonly token: string | null;
}

export type LoadProtocol = 'raw' | 'graphql-ws' | 'legacy';

export interface ConnectCommand {
  readonly cmd: 'connect';
  readonly url: string;
  /** `legacy`: subscriptions-transport-ws (subprotocol `graphql-ws`) instead of graphql-transport-ws. */
  readonly protocol: LoadProtocol;
  /** graphql-ws and legacy only: the subscription document, with `$postId`. */
  readonly query: string;
  readonly clients: readonly ClientSpec[];
  readonly concurrency: number;
  readonly timeoutMs: number;
}

export type Command =
  | ({ id: number } & ConnectCommand)
  | { id: number; cmd: 'reset'; fromSeq: number }
  | { id: number; cmd: 'record'; on: boolean }
  | { id: number; cmd: 'report'; expected: Record<string, number> }
  | { id: number; cmd: 'churn'; fraction: number; periodMs: number; durationMs: number }
  | { id: number; cmd: 'storm'; fromSeq: number; timeoutMs: number }
  | { id: number; cmd: 'close' };

export interface ConnectResult {
  readonly subscribed: number;
  readonly failed: number;
  readonly ms: number;
}

export interface LoadReport {
  readonly clients: number;
  readonly received: number;
  /** Clients that received at least one event since the last reset. */
  readonly clientsWithAny: number;
  /** Over clients that did not re-subscribe: events expected but not received, and received beyond expected. */
  readonly missing: number;
  readonly extra: number;
  readonly churnReceived: number;
  readonly errors: number;
  readonly closedUnexpectedly: number;
  /** Latency histogram in microseconds, hdr-histogram-js compressed base64. */
  readonly histogram: string;
  readonly lastError: string | null;
}

/**
 * A reconnect storm as one worker saw it: every socket dropped at once, every client reconnecting at once and
 * retrying as graphql-ws's client does. Times are ms from the drop, per client (-1: never reached).
 */
export interface StormReport {
  readonly clients: number;
  /** Connected and subscribed again (connection_ack and the subscribe sent; the floor's `subscribed` reply). */
  readonly subscribedMs: number[];
  /** Received an event published after the drop. */
  readonly deliveringMs: number[];
  readonly retries: number;
  /** Clients that used up graphql-ws's retry attempts. */
  readonly gaveUp: number;
  readonly lastError: string | null;
}

export interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** Content of a published event: the send stamp (ms, µs precision) and sequence, padded to 100 characters. */
export function stampedContent(stampMs: number, seq: number): string {
  const head = `${stampMs.toFixed(3)}|${seq}|`;
  return head + 'x'.repeat(Math.max(0, 100 - head.length));
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
