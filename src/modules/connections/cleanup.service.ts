import type { Logger } from 'pino';
import type { PrismaClient } from '../../data/db.js';

/** What one cleanup pass did. `skipped` means another instance (or the CLI) was already cleaning. */
export interface CleanupResult {
  readonly skipped: boolean;
  /** Open records of connections whose instance stopped refreshing them, now marked closed. */
  readonly finalised: number;
  /** Closed records older than the retention cutoff, removed. */
  readonly deleted: number;
  readonly retentionCutoff: Date;
  readonly staleCutoff: Date;
  readonly ms: number;
}

export type CleanupPhase = 'finalise' | 'delete';

export interface CleanupOptions {
  /** Closed records whose `closedAt` is older than now − retentionMs are deleted. */
  readonly retentionMs: number;
  /** Open records whose `lastSeenAt` is older than now − staleAfterMs are finalised. */
  readonly staleAfterMs: number;
  /** Rows per statement; keeps each statement short. Default 1000. */
  readonly batchSize?: number;
  /** Called after each batch with the rows done so far and the total counted up front. */
  readonly onProgress?: (phase: CleanupPhase, done: number, total: number) => void;
  readonly now?: Date;
}

/** Key of the advisory lock that keeps cleanup passes from overlapping across instances ("hrldclean"). */
export const CLEANUP_LOCK_KEY = 0x68726c64;

/** Close code written on records finalised by cleanup: the socket ended without a close frame we saw. */
export const FINALISED_CLOSE_CODE = 1006;
export const FINALISED_CLOSE_REASON = 'Instance stopped responding; finalised by cleanup';

/** Minimum slack on top of the connection timeout before an open record counts as abandoned. */
export const STALE_MARGIN_MS = 60_000;

/** How long a pass may hold its transaction before the database aborts it. */
const TRANSACTION_TIMEOUT_MS = 10 * 60_000;

/**
 * Maintains WebSocketConnection records: finalises those left open by instances that died (crash,
 * kill -9, lost network) and deletes closed ones past retention. Used by `npm run cli -- cleanup` and by
 * a periodic job in every server; an advisory lock makes concurrent passes skip instead of racing.
 */
export class ConnectionCleanupService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<CleanupResult> | null = null;

  constructor(
    private readonly db: PrismaClient,
    private readonly logger?: Logger,
  ) {}

  /**
   * The `staleAfterMs` that matches a server's settings: a live connection is closed after
   * WS_CONNECTION_TIMEOUT of silence, and its lastSeenAt is written in batches at each heartbeat, so a
   * record older than both (plus slack) has no live socket behind it.
   */
  static staleAfterFor(connectionTimeoutMs: number, heartbeatIntervalMs: number): number {
    return connectionTimeoutMs + Math.max(STALE_MARGIN_MS, 2 * heartbeatIntervalMs);
  }

  /**
   * One pass. It runs in a single transaction holding `pg_try_advisory_xact_lock`: the transaction-scoped
   * form, because a session lock taken through a connection pool may be released on another connection
   * (and would leak on the first one); the transaction pins one connection and releases the lock however
   * it ends. PGlite also needs every query of a pass inside the transaction (see STACK.md).
   */
  async run(options: CleanupOptions): Promise<CleanupResult> {
    const started = Date.now();
    const now = options.now ?? new Date();
    const retentionCutoff = new Date(now.getTime() - options.retentionMs);
    const staleCutoff = new Date(now.getTime() - options.staleAfterMs);
    const batch = Math.max(1, Math.floor(options.batchSize ?? 1000));
    const progress = options.onProgress ?? (() => undefined);

    return this.db.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${CLEANUP_LOCK_KEY}::bigint) AS locked`;
        if (!locked[0]?.locked) {
          return { skipped: true, finalised: 0, deleted: 0, retentionCutoff, staleCutoff, ms: Date.now() - started };
        }

        const staleTotal = await tx.webSocketConnection.count({ where: { closedAt: null, lastSeenAt: { lt: staleCutoff } } });
        let finalised = 0;
        progress('finalise', 0, staleTotal);
        while (finalised < staleTotal) {
          // closedAt = lastSeenAt: the last moment the connection was known alive, not the moment we noticed.
          // Rows locked in id order (finalised ones drop out, so batch after batch too), as an instance's own
          // closes and heartbeats lock them (connection-records.ts): no deadlock with a live instance's writes.
          const n = await tx.$executeRaw`
            UPDATE "WebSocketConnection" SET "closedAt" = "lastSeenAt", "closeCode" = ${FINALISED_CLOSE_CODE}, "closeReason" = ${FINALISED_CLOSE_REASON}
            WHERE "id" IN (SELECT "id" FROM "WebSocketConnection" WHERE "closedAt" IS NULL AND "lastSeenAt" < ${staleCutoff} ORDER BY "id" LIMIT ${batch} FOR UPDATE)`;
          if (n === 0) break;
          finalised += n;
          progress('finalise', finalised, Math.max(staleTotal, finalised));
        }

        const oldTotal = await tx.webSocketConnection.count({ where: { closedAt: { lt: retentionCutoff } } });
        let deleted = 0;
        progress('delete', 0, oldTotal);
        while (deleted < oldTotal) {
          const n = await tx.$executeRaw`
            DELETE FROM "WebSocketConnection"
            WHERE "id" IN (SELECT "id" FROM "WebSocketConnection" WHERE "closedAt" < ${retentionCutoff} LIMIT ${batch})`;
          if (n === 0) break;
          deleted += n;
          progress('delete', deleted, Math.max(oldTotal, deleted));
        }
        return { skipped: false, finalised, deleted, retentionCutoff, staleCutoff, ms: Date.now() - started };
      },
      { maxWait: 10_000, timeout: TRANSACTION_TIMEOUT_MS },
    );
  }

  /**
   * Runs a pass every `intervalMs` (first one after one interval, so start-up stays fast). Errors are
   * logged, never thrown: a failed pass is retried at the next tick. The timer does not hold the process.
   */
  startPeriodic(intervalMs: number, options: Omit<CleanupOptions, 'onProgress' | 'now'>): void {
    if (this.timer) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.run(options);
      this.running
        .then((result) => {
          if (result.skipped) this.logger?.debug('connection cleanup skipped: another instance holds the lock');
          else if (result.finalised + result.deleted > 0) this.logger?.info({ finalised: result.finalised, deleted: result.deleted, ms: result.ms }, 'connection records cleaned up');
        })
        .catch((error: unknown) => this.logger?.warn({ err: error }, 'connection cleanup failed'))
        .finally(() => {
          this.running = null;
        });
    };
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a pass in progress, so the database is not closed under it. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
