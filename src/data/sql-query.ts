/**
 * One SQL statement with positional parameters ($1...), its rows as plain objects: `pg` on PostgreSQL,
 * PGlite embedded (src/data/db.ts `createSqlConnection`). The hot statements that no Prisma extension
 * needs to see (the event log's reads, connection records) go through this: Prisma's raw queries cost
 * about four times the CPU of the same statement through `pg`.
 */
export type SqlQuery = (text: string, values: readonly unknown[]) => Promise<readonly Record<string, unknown>[]>;
