import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import type { Config } from '../shared/config.js';
import { createPrismaClient, type PrismaClient } from '../data/db.js';
import { EMBEDDED_URL_FILE, startEmbeddedDatabase } from '../data/embedded.js';
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
 * may open, so a running embedded server makes this fail with a message saying what to do instead.
 */
export async function openDatabase(config: Config): Promise<CliDatabase> {
  if (config.databaseUrl) {
    const migrated = await applyMigrations(config.databaseUrl);
    if (migrated.applied.length > 0) process.stderr.write(`Applied migrations: ${migrated.applied.join(', ')}\n`);
    const db = createPrismaClient({ kind: 'postgresql', url: config.databaseUrl, poolSize: 2 });
    return { db, kind: 'postgresql', close: () => db.$disconnect() };
  }
  const holder = await embeddedHolder(config);
  if (holder) {
    throw new CliFailure(
      `The embedded database in ${resolve(config.dataDir)} is in use by a running Herald server (${holder}).\n` +
        'Only one process can open it. Stop the server first, or run the server and this command against\n' +
        'PostgreSQL by setting DATABASE_URL for both.',
    );
  }
  const embedded = await startEmbeddedDatabase(config.dataDir);
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

/**
 * Describes the process holding the embedded database, or null. The server writes `pglite.url` when it
 * opens the data dir and removes it on a clean stop; after a crash the file stays, so it only counts when
 * something still answers: the server's /health on PORT, or the URL's own port (open during migrations).
 */
export async function embeddedHolder(config: Config): Promise<string | null> {
  const file = join(resolve(config.dataDir), EMBEDDED_URL_FILE);
  if (!existsSync(file)) return null;
  const healthUrl = `http://127.0.0.1:${config.port}/health`;
  if (await answers(healthUrl)) return `answering on ${healthUrl}`;
  const url = (await readFile(file, 'utf8').catch(() => '')).trim();
  const port = url ? Number(new URL(url).port) : NaN;
  if (Number.isInteger(port) && port > 0 && (await acceptsTcp('127.0.0.1', port))) return `database socket on port ${port}`;
  return null;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    return response.ok;
  } catch {
    return false;
  }
}

function acceptsTcp(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
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
