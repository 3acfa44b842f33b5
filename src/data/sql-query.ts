/**
 * One SQL statement with positional parameters ($1...), its rows as plain objects: `pg` on PostgreSQL,
 * PGlite embedded (src/data/db.ts `createSqlConnection`). The hot statements go through this: the event
 * log's reads and connection records, which no Prisma extension needs to see, and `updatePost`'s write,
 * which the post publishing extension runs itself (`post.updateText`). Prisma's raw queries cost about
 * four times the CPU of the same statement through `pg`, its `post.update` about three times.
 */
export type SqlQuery = (text: string, values: readonly unknown[]) => Promise<readonly Record<string, unknown>[]>;
