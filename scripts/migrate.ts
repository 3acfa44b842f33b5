/*
 * `npm run db:migrate`: applies prisma/migrations to DATABASE_URL or, when it is unset, to the embedded PGlite
 * under DATA_DIR (default ./.data; its files live in ./.data/pglite), the same database the server opens.
 *
 * It reads process.env itself instead of src/config.ts: loadConfig() validates the whole server configuration
 * (JWT_SECRET and ALLOWED_ORIGINS in production), which a deploy's migration step should not need.
 */
import { applyMigrations } from '../src/data/migrate.js';
import { startEmbeddedDatabase } from '../src/data/embedded.js';

async function main(): Promise<void> {
  const started = performance.now();
  const log = (line: string): void => console.log(line);
  const databaseUrl = process.env.DATABASE_URL || undefined;
  let applied: string[];
  if (databaseUrl !== undefined) {
    ({ applied } = await applyMigrations(databaseUrl, { log }));
  } else {
    const dataDir = process.env.DATA_DIR || './.data';
    log(`Migrations: no DATABASE_URL, using the embedded database in ${dataDir}`);
    // Refused with one line (EmbeddedDatabaseInUseError) while a server or the CLI holds the directory.
    const db = await startEmbeddedDatabase(dataDir, { holder: 'npm run db:migrate' });
    try {
      ({ applied } = await applyMigrations(db.url, { log }));
    } finally {
      await db.stop();
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Migrations: ${applied.length === 0 ? 'nothing to apply' : `applied ${applied.length}`} (${seconds} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
