import { resolve } from 'node:path';
import type { Config } from '../shared/config.js';
import { createPrismaClient, type PrismaClient } from '../data/db.js';
import { EmbeddedDatabaseInUseError, startEmbeddedDatabase } from '../data/embedded.js';
import { applyMigrations } from '../data/migrate.js';
import { CliFailure } from './command.js';

export interface CliDatabase {
  readonly db: PrismaClient;
  readonly kind: 'postgresql' | 'embedded';
  close(): Promise<void>;
}

/**
 * Opens the database the server would use. With DATABASE_URL: Prisma on PostgreSQL (pending migrations
 * applied first, as `npm start` does). Without it: the embedded PGlite in DATA_DIR, which only one process
 * may open: its lock (data/data-dir-lock.ts) makes this fail with a message saying who holds it and what
 * to do instead, whatever port a running server listens on.
 */
export async function openDatabase(config: Config, holder = 'the Herald CLI'): Promise<CliDatabase> {
  if (config.databaseUrl) {
    const migrated = await applyMigrations(config.databaseUrl);
    if (migrated.applied.length > 0) process.stderr.write(`Applied migrations: ${migrated.applied.join(', ')}\n`);
    const db = createPrismaClient({ kind: 'postgresql', url: config.databaseUrl, poolSize: 2 });
    return { db, kind: 'postgresql', close: () => db.$disconnect() };
  }
  let embedded;
  try {
    embedded = await startEmbeddedDatabase(resolve(config.dataDir), { holder });
  } catch (error) {
    if (error instanceof EmbeddedDatabaseInUseError) throw new CliFailure(error.message);
    throw error;
  }
  try {
    await applyMigrations(embedded.url);
    await embedded.closeSocket();
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  const db = createPrismaClient({ kind: 'embedded', pglite: embedded.pglite });
  return {
    db,
    kind: 'embedded',
    async close() {
      await db.$disconnect();
      await embedded.stop();
    },
  };
}

/** Runs `work` with the database open and always closes it (PGlite must be closed to flush). */
export async function withDatabase<T>(config: Config, work: (db: PrismaClient) => Promise<T>): Promise<T> {
  const opened = await openDatabase(config);
  try {
    return await work(opened.db);
  } finally {
    await opened.close();
  }
}
