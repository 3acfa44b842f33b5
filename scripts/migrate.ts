/*
 * `npm run db:migrate`: applies prisma/migrations to DATABASE_URL or, when it is unset, to the embedded PGlite
 * under DATA_DIR (default ./.data; its files live in ./.data/pglite), the same database the server opens.
 *
 * It reads process.env itself instead of src/config.ts: loadConfig() validates the whole server configuration
 * (JWT_SECRET and ALLOWED_ORIGINS in production), which a deploy's migration step should not need.
 */
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { applyMigrations } from '../src/data/migrate.js';
import { EMBEDDED_URL_FILE, startEmbeddedDatabase } from '../src/data/embedded.js';

async function main(): Promise<void> {
  const started = performance.now();
  const log = (line: string): void => console.log(line);
  const databaseUrl = process.env.DATABASE_URL || undefined;
  let applied: string[];
  if (databaseUrl !== undefined) {
    ({ applied } = await applyMigrations(databaseUrl, { log }));
  } else {
    const dataDir = process.env.DATA_DIR || './.data';
    await refuseIfServed(dataDir);
    log(`Migrations: no DATABASE_URL, using the embedded database in ${dataDir}`);
    const db = await startEmbeddedDatabase(dataDir);
    try {
      ({ applied } = await applyMigrations(db.url, { log }));
    } finally {
      await db.stop();
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Migrations: ${applied.length === 0 ? 'nothing to apply' : `applied ${applied.length}`} (${seconds} s)`);
}

/**
 * Two processes opening one PGlite directory corrupt it, and nothing in PGlite prevents that. A running server
 * leaves its address in the data dir; if something answers there, stop rather than open the files a second time.
 */
async function refuseIfServed(dataDir: string): Promise<void> {
  const url = await readFile(join(dataDir, EMBEDDED_URL_FILE), 'utf8').catch(() => null);
  if (url === null) return;
  const { hostname, port } = new URL(url.trim());
  if (await answers(hostname, Number(port))) {
    throw new Error(
      `The embedded database in ${dataDir} is open in a running Herald (${url.trim()}). ` +
        'Stop it before migrating, or set DATABASE_URL.',
    );
  }
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
