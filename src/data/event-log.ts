import type { PrismaClient } from '../generated/prisma/client.js';
import type { EventLogReader, LoggedEvent } from '../realtime/durable-feed.js';

interface EventRow {
  position: bigint;
  channel: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/**
 * The event log over the database: `EventLog` rows appended by the triggers of the event_log migration,
 * and `EventLogState` (epoch, retention watermark). Plain SQL: these run once per write per instance, on
 * the hot path of every durable delivery.
 */
export class EventLog implements EventLogReader {
  constructor(private readonly db: PrismaClient) {}

  async head(): Promise<{ position: bigint; epoch: string }> {
    const rows = await this.db.$queryRaw<{ position: bigint; epoch: string }[]>`
      SELECT COALESCE((SELECT MAX("position") FROM "EventLog"), 0)::bigint AS "position", "epoch" FROM "EventLogState" WHERE "id" = 1`;
    const row = rows[0];
    if (!row) throw new Error('EventLogState is empty: the event_log migration has not run');
    return row;
  }

  after(position: bigint, limit: number): Promise<LoggedEvent[]> {
    return this.db.$queryRaw<EventRow[]>`
      SELECT "position", "channel", "payload", "createdAt" FROM "EventLog"
      WHERE "position" > ${position} ORDER BY "position" LIMIT ${limit}`;
  }

  async replay(channels: readonly string[], after: bigint, through: bigint, limit: number): Promise<{ events: LoggedEvent[]; prunedThrough: bigint }> {
    // One statement, so the watermark and the rows come from the same snapshot.
    const rows = await this.db.$queryRaw<(Partial<EventRow> & { prunedThrough: bigint })[]>`
      SELECT s."prunedThrough", e."position", e."channel", e."payload", e."createdAt"
      FROM "EventLogState" s
      LEFT JOIN LATERAL (
        SELECT "position", "channel", "payload", "createdAt" FROM "EventLog"
        WHERE "channel" = ANY(${[...channels]}::text[]) AND "position" > ${after} AND "position" <= ${through}
        ORDER BY "position" LIMIT ${limit}
      ) e ON true
      WHERE s."id" = 1
      ORDER BY e."position"`;
    const prunedThrough = rows[0]?.prunedThrough ?? 0n;
    const events = rows.filter((row): row is EventRow & { prunedThrough: bigint } => row.position !== null && row.position !== undefined);
    return { events, prunedThrough };
  }

  async locate(position: bigint): Promise<{ known: boolean; prunedThrough: bigint }> {
    const rows = await this.db.$queryRaw<{ known: boolean; prunedThrough: bigint }[]>`
      SELECT EXISTS (SELECT 1 FROM "EventLog" WHERE "position" = ${position}) AS "known", "prunedThrough"
      FROM "EventLogState" WHERE "id" = 1`;
    return rows[0] ?? { known: false, prunedThrough: 0n };
  }

  /** Deletes events older than `retentionMs` and raises the watermark past them; returns how many went. */
  async prune(retentionMs: number): Promise<number> {
    // The cutoff on the database's clock, the one that stamped the rows (UTC, as Prisma stores DateTime).
    const rows = await this.db.$queryRaw<{ deleted: bigint }[]>`
      WITH gone AS (
        DELETE FROM "EventLog"
        WHERE "createdAt" < (clock_timestamp() AT TIME ZONE 'UTC') - make_interval(secs => ${retentionMs / 1000})
        RETURNING "position"
      ),
      raised AS (
        UPDATE "EventLogState" SET "prunedThrough" = GREATEST("prunedThrough", (SELECT MAX("position") FROM gone))
        WHERE "id" = 1 AND EXISTS (SELECT 1 FROM gone)
      )
      SELECT COUNT(*)::bigint AS "deleted" FROM gone`;
    return Number(rows[0]?.deleted ?? 0n);
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
