import type { EventLogReader, LoggedEvent } from '../realtime/durable-feed.js';

import type { SqlQuery } from './sql-query.js';

interface EventRow {
  position: string;
  channel: string;
  payload: Record<string, unknown>;
  createdAt: string;
}

// Positions as text (pg and PGlite parse int8 differently); the time as the ISO string events carry, in UTC
// as Prisma stores DateTime. The alias hides the column: order by "EventLog"."position", never by "position"
// (that would sort the text, 10 before 9).
const EVENT_COLUMNS = `"position"::text AS "position", "channel", "payload", to_char("createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"`;

function loggedEvent(row: EventRow): LoggedEvent {
  return { position: BigInt(row.position), channel: row.channel, payload: row.payload, createdAt: row.createdAt };
}

/**
 * The event log over the database: `EventLog` rows appended by the triggers of the event_log migration,
 * and `EventLogState` (epoch, retention watermark).
 */
export class EventLog implements EventLogReader {
  constructor(private readonly query: SqlQuery) {}

  async head(): Promise<{ position: bigint; epoch: string }> {
    const rows = await this.query(`SELECT COALESCE((SELECT MAX("position") FROM "EventLog"), 0)::text AS "position", "epoch" FROM "EventLogState" WHERE "id" = 1`, []);
    const row = rows[0] as { position: string; epoch: string } | undefined;
    if (!row) throw new Error('EventLogState is empty: the event_log migration has not run');
    return { position: BigInt(row.position), epoch: row.epoch };
  }

  async after(position: bigint, limit: number): Promise<LoggedEvent[]> {
    const rows = await this.query(`SELECT ${EVENT_COLUMNS} FROM "EventLog" WHERE "position" > $1 ORDER BY "EventLog"."position" LIMIT $2`, [position.toString(), limit]);
    return (rows as unknown as EventRow[]).map(loggedEvent);
  }

  async replay(channels: readonly string[], after: bigint, through: bigint, limit: number): Promise<{ events: LoggedEvent[]; prunedThrough: bigint }> {
    // One statement, so the watermark and the rows come from the same snapshot.
    const rows = await this.query(
      `SELECT s."prunedThrough"::text AS "prunedThrough", e.* FROM "EventLogState" s
       LEFT JOIN LATERAL (
         SELECT ${EVENT_COLUMNS} FROM "EventLog"
         WHERE "channel" = ANY($1::text[]) AND "position" > $2 AND "position" <= $3
         ORDER BY "EventLog"."position" LIMIT $4
       ) e ON true
       WHERE s."id" = 1
       ORDER BY e."position"::bigint`,
      [[...channels], after.toString(), through.toString(), limit],
    );
    const first = rows[0] as { prunedThrough?: string } | undefined;
    const events = (rows as unknown as (EventRow | { position: null })[]).filter((row): row is EventRow => row.position !== null).map(loggedEvent);
    return { events, prunedThrough: BigInt(first?.prunedThrough ?? '0') };
  }

  async locate(position: bigint): Promise<{ known: boolean; prunedThrough: bigint }> {
    const rows = await this.query(
      `SELECT EXISTS (SELECT 1 FROM "EventLog" WHERE "position" = $1) AS "known", "prunedThrough"::text AS "prunedThrough" FROM "EventLogState" WHERE "id" = 1`,
      [position.toString()],
    );
    const row = rows[0] as { known: boolean; prunedThrough: string } | undefined;
    return { known: row?.known === true, prunedThrough: BigInt(row?.prunedThrough ?? '0') };
  }

  /** Deletes events older than `retentionMs` and raises the watermark past them; returns how many went. */
  async prune(retentionMs: number): Promise<number> {
    // The cutoff on the database's clock, the one that stamped the rows (UTC, as Prisma stores DateTime).
    const rows = await this.query(
      `WITH gone AS (
         DELETE FROM "EventLog"
         WHERE "createdAt" < (clock_timestamp() AT TIME ZONE 'UTC') - make_interval(secs => $1)
         RETURNING "position"
       ),
       raised AS (
         UPDATE "EventLogState" SET "prunedThrough" = GREATEST("prunedThrough", (SELECT MAX("position") FROM gone))
         WHERE "id" = 1 AND EXISTS (SELECT 1 FROM gone)
       )
       SELECT COUNT(*)::int AS "deleted" FROM gone`,
      [retentionMs / 1000],
    );
    return Number((rows[0] as { deleted?: number } | undefined)?.deleted ?? 0);
  }
}

const PRUNE_EVERY_MS = 60 * 60_000;

/**
 * Deletes durable events past retention now and every hour (every instance does; deleting twice is
 * harmless). Returns the stop function.
 */
export function keepEventLogFor(log: EventLog, retentionMs: number, onError: (error: unknown) => void): () => void {
  const prune = () => void log.prune(retentionMs).catch(onError);
  const first = setTimeout(prune, 10_000);
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
