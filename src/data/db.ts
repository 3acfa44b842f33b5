import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import type { SqlQuery } from './sql-query.js';
import type { PostWrites } from './extensions/publish-post-events.js';

export type { PrismaClient };

/** The client the app runs on: Prisma's, with the methods its publishing extensions add. */
export type HeraldDb = PrismaClient & { readonly post: PrismaClient['post'] & PostWrites };

export type DatabaseTarget =
  | { readonly kind: 'postgresql'; readonly url: string; readonly poolSize: number }
  | { readonly kind: 'embedded'; readonly pglite: PGlite };

/** A bare Prisma client on a driver adapter; `app.ts` adds the publishing extensions. */
export function createPrismaClient(target: DatabaseTarget): PrismaClient {
  if (target.kind === 'embedded') return new PrismaClient({ adapter: new PrismaPGlite(target.pglite) });
  const adapter = new PrismaPg({
    connectionString: target.url,
    max: target.poolSize,
    // Fail a request quickly when the database is gone instead of queueing it forever.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  return new PrismaClient({ adapter });
}

/** Plain SQL on the same database, for the few hot statements Prisma would make costly (the event log). */
export interface SqlConnection {
  readonly query: SqlQuery;
  close(): Promise<void>;
}

export function createSqlConnection(target: DatabaseTarget, onError: (error: Error) => void): SqlConnection {
  if (target.kind === 'embedded') {
    const { pglite } = target;
    return { query: async (text, values) => (await pglite.query<Record<string, unknown>>(text, [...values])).rows, close: async () => undefined };
  }
  // As many connections as Prisma's pool: every resuming subscription validates and replays through it.
  const pool = new pg.Pool({ connectionString: target.url, max: target.poolSize, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  // An idle client dropped by the server (a database restart) must not end the process; the next query reconnects.
  pool.on('error', onError);
  return { query: async (text, values) => (await pool.query(text, [...values])).rows as Record<string, unknown>[], close: () => pool.end() };
}
