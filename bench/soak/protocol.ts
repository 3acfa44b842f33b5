/** Messages between the soak harness and its client workers (Node IPC), and what both sides share. */

/** The durable subscriptions the soak holds; each client runs one. */
export type SubscriptionKind = 'postUpdated' | 'commentAdded' | 'notifications';

export interface SoakClientSpec {
  readonly index: number;
  /** Index into the token book (a reader account; many sockets share one). */
  readonly user: number;
  /** Index of the instance it connects to first (and returns to first after every drop). */
  readonly home: number;
  readonly kind: SubscriptionKind;
  readonly postId: string | null;
  /** Renews its token on the open socket (renewConnectionToken); otherwise it is closed with 4403 at expiry and reconnects. */
  readonly renews: boolean;
}

export interface ConnectCommand {
  readonly cmd: 'connect';
  readonly urls: readonly string[];
  /** Resubscribe with `after: <last eventId>` (the schema has the argument). */
  readonly resume: boolean;
  readonly clients: readonly SoakClientSpec[];
  readonly tokens: readonly string[];
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/** A write the harness made and the server accepted: what subscribers of `topic` must see. */
export interface Written {
  readonly seq: number;
  readonly sentAt: number;
}

export type Command =
  | ({ id: number } & ConnectCommand)
  | { id: number; cmd: 'tokens'; tokens: Record<number, string> }
  /** Each second: `reconnectShare` of clients drop their socket and reconnect, `resubscribeShare` complete and subscribe again. */
  | { id: number; cmd: 'churn'; reconnectShare: number; resubscribeShare: number }
  | { id: number; cmd: 'status' }
  | { id: number; cmd: 'report'; written: Record<string, Written[]> }
  | { id: number; cmd: 'close' };

export interface ConnectResult {
  readonly connected: number;
  readonly failed: number;
  readonly ms: number;
}

export interface WorkerStatus {
  readonly clients: number;
  /** Acknowledged and subscribed. */
  readonly live: number;
  readonly received: number;
  /** Per home instance: ms timestamp of the last event received by one of its clients. */
  readonly lastReceivedAt: number[];
  readonly counters: Record<string, number>;
  readonly lastError: string | null;
  /** An event that carried no write stamp (what it was). */
  readonly lastUnstamped: string | null;
}

export interface SubscriberReport {
  readonly clients: number;
  /** Events every client should have had (written after its first event arrived), summed. */
  readonly expected: number;
  readonly received: number;
  readonly missing: number;
  readonly duplicates: number;
  /** Received, matched to no accepted write (a write whose response was lost but that committed). */
  readonly unmatched: number;
  /** A post update whose `post { content }` showed another write's content (read after a later write). */
  readonly stale: number;
  /** Clients with at least one missing event, and the worst one's count. */
  readonly clientsMissing: number;
  readonly worstMissing: number;
  /** How many clients missed 0, 1, 2, ... events (index = missing count, last bucket = that many or more). */
  readonly missingPerClient: number[];
  /** Per client: [index, expected, received (distinct, matched), missing, duplicates]. */
  readonly perClient: [number, number, number, number, number][];
  /** Per subscription kind: expected / missing / duplicates. */
  readonly byKind: Record<string, { clients: number; expected: number; missing: number; duplicates: number }>;
  /** Write → receive latency per subscription kind, hdr-histogram-js compressed base64 (µs). */
  readonly histograms: Record<string, string>;
}

export interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** The topic key a client's events are accounted under. */
export function topicKey(kind: SubscriptionKind, postId: string | null): string {
  return kind === 'notifications' ? 'notifications' : `${kind}:${postId}`;
}

/** Written content carries the write's sequence and send time, so a subscriber can match and time it. */
export function stamp(seq: number, sentAt: number): string {
  return `soak#${seq}#${sentAt.toFixed(1)}`;
}

const STAMP = /soak#(\d+)#(\d+\.\d)/;

export function parseStamp(text: string): { seq: number; sentAt: number } | null {
  const match = STAMP.exec(text);
  return match ? { seq: Number(match[1]), sentAt: Number(match[2]) } : null;
}

/** Seconds-since-epoch `exp` of a JWT, without verifying it (the server does). */
export function tokenExpiry(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
    return (payload.exp ?? 0) * 1000;
  } catch {
    return 0;
  }
}
