import type { Logger } from 'pino';
import type { SqlQuery } from '../../data/sql-query.js';
import { WriteBatcher } from '../../shared/write-batcher.js';

export interface OpenedConnection {
  readonly id: string;
  readonly userId: string | null;
  readonly instanceId: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly connectedAt: Date;
}

interface ClosedConnection {
  readonly id: string;
  readonly closedAt: Date;
  readonly code: number;
  readonly reason: string;
  readonly lastSeenAt: Date | null;
}

/**
 * The WebSocketConnection rows: written when a connection opens, finalised (closedAt, closeCode,
 * closeReason, lastSeenAt) when it closes. `lastSeenAt` is not written per message: each heartbeat
 * hands `markSeen()` the connections heard from since the last one, written in one statement.
 */
export class ConnectionRecords {
  private readonly pending = new Set<Promise<unknown>>();
  /**
   * Connections opened (closed) in one event-loop turn are written with one statement: reconnect and
   * disconnect storms cost a few statements, not one per socket.
   */
  private readonly inserts: WriteBatcher<OpenedConnection>;
  private readonly finals: WriteBatcher<ClosedConnection>;

  constructor(
    private readonly query: SqlQuery,
    private readonly logger: Logger,
  ) {
    this.inserts = new WriteBatcher((rows) => this.insertMany(rows));
    this.finals = new WriteBatcher((rows) => retryDeadlocks(() => this.finaliseMany(rows)));
  }

  async opened(connection: OpenedConnection): Promise<void> {
    await this.track(this.inserts.add(connection));
  }

  /** An anonymous connection adopted a user (a per-operation token): the row names that user from now on. */
  async identified(connectionId: string, userId: string): Promise<void> {
    await this.track(this.query('UPDATE "WebSocketConnection" SET "userId" = $2 WHERE "id" = $1', [connectionId, userId]));
  }

  /** `lastSeenAt`: when the client was last heard from (ms), null when never after connecting. */
  async closed(connectionId: string, code: number, reason: string, lastSeenAt: number | null, at = new Date()): Promise<void> {
    await this.track(this.finals.add({ id: connectionId, closedAt: at, code, reason: reason.slice(0, 255), lastSeenAt: lastSeenAt === null ? null : new Date(lastSeenAt) }));
  }

  // Plain SQL (not Prisma) with one array per column: Prisma's createMany/updateMany cost ~100-600 µs of
  // CPU per row here and its raw queries about four times `pg`'s; this is a few µs per row once batched
  // (connection rows publish no events, so no extension needs to see these writes).
  private async insertMany(rows: OpenedConnection[]): Promise<void> {
    await this.query(
      `INSERT INTO "WebSocketConnection" ("id", "userId", "instanceId", "ip", "userAgent", "connectedAt", "lastSeenAt")
       SELECT t.id, t.user_id, t.instance_id, t.ip, t.user_agent, t.at, t.at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamp(3)[]) AS t(id, user_id, instance_id, ip, user_agent, at)`,
      [rows.map((r) => r.id), rows.map((r) => r.userId), rows.map((r) => r.instanceId), rows.map((r) => r.ip), rows.map((r) => r.userAgent), rows.map((r) => r.connectedAt.toISOString())],
    );
  }

  // Both multi-row updates lock their rows in id order first (`lockedInIdOrder`): a batch of closes and a
  // heartbeat over the same rows would otherwise lock them in different orders (the batch's array order, the
  // index's order) and deadlock; PostgreSQL then aborts one, and its rows would stay open.
  private async finaliseMany(rows: ClosedConnection[]): Promise<void> {
    await this.query(
      `WITH t AS MATERIALIZED (
         SELECT * FROM unnest($1::text[], $2::timestamp(3)[], $3::int[], $4::text[], $5::timestamp(3)[]) AS t(id, closed_at, code, reason, last_seen)
       ), ${lockedInIdOrder('SELECT id FROM t')}
       UPDATE "WebSocketConnection" AS c
       SET "closedAt" = t.closed_at, "closeCode" = t.code, "closeReason" = t.reason, "lastSeenAt" = COALESCE(t.last_seen, c."lastSeenAt")
       FROM t, locked
       WHERE c.id = t.id AND c.id = locked.id AND c."closedAt" IS NULL`,
      [rows.map((r) => r.id), rows.map((r) => r.closedAt.toISOString()), rows.map((r) => r.code), rows.map((r) => r.reason), rows.map((r) => r.lastSeenAt?.toISOString() ?? null)],
    );
  }

  /**
   * Sets `lastSeenAt` of these open rows to `at`, the newest activity among them: precise to a heartbeat,
   * which is enough for "last seen", and one statement for all.
   */
  async markSeen(connectionIds: readonly string[], at: number): Promise<void> {
    if (connectionIds.length === 0) return;
    await this.track(
      retryDeadlocks(() =>
        this.query(
          `WITH ${lockedInIdOrder('SELECT unnest($1::text[])')}
           UPDATE "WebSocketConnection" AS c SET "lastSeenAt" = $2::timestamp(3) FROM locked WHERE c.id = locked.id AND c."closedAt" IS NULL`,
          [[...connectionIds], new Date(at).toISOString()],
        ),
      ),
    );
  }

  /** Waits for every write in flight (shutdown calls this before the database disconnects). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async track<T>(write: Promise<T>): Promise<void> {
    const promise = write.then(
      () => undefined,
      (error: unknown) => this.logger.warn({ err: error }, 'connection record write failed'),
    );
    this.pending.add(promise);
    try {
      await promise;
    } finally {
      this.pending.delete(promise);
    }
  }
}

/**
 * A `locked` CTE: the open rows among `ids` (a query of one text column), locked in id order. Rows are
 * locked as they leave the sort, so every statement built on it takes its row locks in the same order.
 */
function lockedInIdOrder(ids: string): string {
  return `locked AS MATERIALIZED (
    SELECT w.id FROM "WebSocketConnection" AS w WHERE w.id IN (${ids}) AND w."closedAt" IS NULL ORDER BY w.id FOR UPDATE
  )`;
}

const DEADLOCK_ATTEMPTS = 5;

/**
 * Runs a multi-row write again when PostgreSQL aborted it as a deadlock victim (40P01). Our statements lock
 * in id order and should not deadlock each other; this stays for what they cannot order against (an
 * operator's own statement, cleanup in another process): the victim's rows would otherwise stay open.
 */
async function retryDeadlocks<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(error)) throw error;
      // Apart from the statement that won, with jitter, so two victims do not meet again at once.
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40 * attempt));
    }
  }
}

function isDeadlock(error: unknown): boolean {
  for (let current = error as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0; current && depth < 5; depth++) {
    if (current.code === '40P01' || (typeof current.message === 'string' && /deadlock/i.test(current.message))) return true;
    current = current.cause as typeof current;
  }
  return false;
}
