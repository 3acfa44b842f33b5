/*
 * Applies the committed Prisma migrations (prisma/migrations/<timestamp>_<name>/migration.sql) with one plain
 * `pg` connection, keeping Prisma's `_prisma_migrations` bookkeeping byte for byte.
 *
 * Why not `prisma migrate deploy`: it needs the native schema engine, which cannot be downloaded here.
 * Why not @prisma/schema-engine-wasm's applyMigrations: it runs scripts through a driver adapter, and
 * @prisma/adapter-pg 7.10's executeScript splits the file on every ";" (a semicolon inside a string or a
 * function body breaks it) and runs the pieces one by one on a pool, so a failure leaves a half-applied
 * migration; pglite-prisma-adapter's does not even await the script. It also has to be loaded by hand on
 * Node 20 and reports errors as opaque adapter ids. Deploy is a small, stable protocol (lock, create the
 * table, compare checksums, run each file, record it), so doing it directly is easier to trust: one session,
 * each file sent whole as one simple query (one implicit transaction, exactly what the native engine does),
 * errors that name the migration, and the rows Prisma writes. The tests check that Prisma's own engine
 * accepts what this writes, and the other way round.
 *
 * Deliberate differences from `migrate deploy`: an applied migration whose file changed is an error here
 * (deploy ignores it; only `migrate dev` notices), and the advisory lock waits up to 60 s instead of 10 s, so
 * replicas that start together wait out a long migration instead of crash-looping.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface ApplyMigrationsOptions {
  /** Receives one human-readable line per step (which migration runs, how long it took). */
  log?: (line: string) => void;
  /** Defaults to this repository's prisma/migrations, wherever the process was started from. */
  migrationsDir?: string;
  /** How long to wait for another process holding the migration lock. Default 60 000 ms. */
  lockTimeoutMs?: number;
}

export interface LocalMigration {
  /** Directory name, e.g. `20250101120000_init`; Prisma's migration_name. */
  readonly name: string;
  readonly script: string;
  /** Hex sha256 of the file's bytes, as Prisma stores it. */
  readonly checksum: string;
}

/** The key `prisma migrate` locks on: both tools exclude each other. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// Prisma's DDL, verbatim, so `prisma migrate deploy` finds the table it would have created.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

/**
 * Applies every migration not yet recorded in `_prisma_migrations`, in directory-name order.
 * Resolves with the names applied (empty when the database was up to date). Rejects, naming the migration,
 * when a script fails, an applied migration's file changed, or an earlier migration is recorded as failed.
 */
export async function applyMigrations(
  databaseUrl: string,
  options: ApplyMigrationsOptions = {},
): Promise<{ applied: string[] }> {
  const log = options.log ?? (() => {});
  const migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  // A wrong path must not look like "nothing to apply" (say, in a build that moved this file).
  await stat(migrationsDir).catch((error: unknown) => {
    throw new Error(`Migrations: no migrations directory at ${migrationsDir}: ${messageOf(error)}`, { cause: error });
  });
  const migrations = await readMigrations(migrationsDir);
  const { connectionString, schema } = splitSchemaParam(databaseUrl);
  // One client, never a pool: the advisory lock belongs to a session, and PGlite serves one connection.
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  // A dropped connection emits 'error' on the client; without a listener it would crash the process.
  client.on('error', () => {});
  await client.connect().catch((error: unknown) => {
    // What a client sees when pglite-socket turns it away because its one connection is taken.
    const hint = /terminated unexpectedly/.test(messageOf(error))
      ? ' (an embedded PGlite serves one connection at a time: is another client connected?)'
      : '';
    throw new Error(`Migrations: cannot connect to the database: ${messageOf(error)}${hint}`, { cause: error });
  });
  try {
    await lock(client, options.lockTimeoutMs ?? 60_000);
    try {
      await useSchema(client, schema);
      await ensureMigrationsTable(client, schema);
      const rows = await client.query<MigrationRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM _prisma_migrations ORDER BY started_at ASC',
      );
      const pending = planMigrations(migrations, rows.rows, log);
      if (pending.length === 0) log('Migrations: database is up to date');
      const applied: string[] = [];
      for (const migration of pending) {
        await applyOne(client, migration, log);
        applied.push(migration.name);
      }
      return { applied };
    } finally {
      // pglite-socket hands every connection the same session: leave it as we found it.
      await client.query(`SELECT pg_advisory_unlock(${PRISMA_MIGRATE_LOCK_KEY}); RESET search_path`).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** Reads `<dir>/<name>/migration.sql` for every subdirectory, sorted as Prisma sorts them; none if `dir` is missing. */
export async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch((error: unknown) => {
    if (isErrnoException(error) && error.code === 'ENOENT') return [];
    throw error;
  });
  await checkLockfile(migrationsDir);
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b)); // Prisma's own order (localeCompare), so both tools agree.
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(join(migrationsDir, name, 'migration.sql')).catch((error: unknown) => {
        throw new Error(`Migration ${name}: cannot read migration.sql: ${messageOf(error)}`, { cause: error });
      });
      return { name, script: bytes.toString('utf8'), checksum: sha256Hex(bytes) };
    }),
  );
}

/**
 * Whether `script` matches a stored checksum, the way Prisma decides it: line endings do not count (git may
 * rewrite them), and rows written by old Prisma versions stored hex bytes without zero padding.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/\n/g, '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    const rendered = checksum.length !== 0 && checksum.length !== 64 ? unpaddedHex(digest) : digest.toString('hex');
    return rendered === checksum;
  });
}

function planMigrations(local: LocalMigration[], rows: MigrationRow[], log: (line: string) => void): LocalMigration[] {
  const live = rows.filter((row) => row.rolled_back_at === null);
  const failed = live.filter((row) => row.finished_at === null);
  if (failed.length > 0) {
    const names = failed.map((row) => row.migration_name).join(', ');
    const details = failed.map((row) => `${row.migration_name}: ${row.logs?.trim() || 'no logs'}`).join('\n');
    throw new Error(
      `Migrations: ${names} failed earlier and must be resolved before anything else is applied. ` +
        'Fix the database by hand, then either mark it applied or rolled back (what `prisma migrate resolve` does: ' +
        `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '<name>' AND finished_at IS NULL).\n${details}`,
    );
  }
  const byName = new Map(local.map((migration) => [migration.name, migration]));
  for (const row of live) {
    const migration = byName.get(row.migration_name);
    if (migration === undefined) {
      log(`Migrations: ${row.migration_name} is applied but missing from the migrations directory`);
    } else if (!scriptMatchesChecksum(migration.script, row.checksum)) {
      throw new Error(
        `Migration ${row.migration_name} was modified after it was applied (checksum ${row.checksum} in the ` +
          `database, ${migration.checksum} on disk). Restore the original file and put the change in a new migration.`,
      );
    }
  }
  const appliedNames = new Set(live.map((row) => row.migration_name));
  return local.filter((migration) => !appliedNames.has(migration.name));
}

async function applyOne(client: pg.Client, migration: LocalMigration, log: (line: string) => void): Promise<void> {
  log(`Migrations: applying ${migration.name}`);
  const started = performance.now();
  const id = randomUUID();
  await client.query(
    'INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) VALUES ($1, $2, now(), $3)',
    [id, migration.checksum, migration.name],
  );
  try {
    // No parameters: pg sends a simple query, which PostgreSQL runs as one implicit transaction, as Prisma does.
    await client.query(migration.script);
  } catch (error) {
    const text = describeDatabaseError(error);
    await client.query('UPDATE _prisma_migrations SET logs = $1 WHERE id = $2', [text, id]).catch(() => {});
    throw new Error(`Migration ${migration.name} failed: ${text}`, { cause: error });
  }
  await client.query(
    'UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1, finished_at = now() WHERE id = $1',
    [id],
  );
  log(`Migrations: applied ${migration.name} in ${Math.round(performance.now() - started)} ms`);
}

async function lock(client: pg.Client, timeoutMs: number): Promise<void> {
  // lock_timeout bounds the wait; reset at once so it never applies to the migration scripts themselves.
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await client.query(`SELECT pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})`);
  } catch (error) {
    throw new Error(
      `Migrations: another process held the migration lock (pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})) ` +
        `for more than ${timeoutMs} ms: ${messageOf(error)}`,
      { cause: error },
    );
  } finally {
    await client.query('RESET lock_timeout').catch(() => {});
  }
}

async function useSchema(client: pg.Client, schema: string): Promise<void> {
  const quoted = quoteIdent(schema);
  // Prisma creates the URL's schema when it is missing, then works inside it. Look first: CREATE SCHEMA IF
  // NOT EXISTS still demands CREATE on the database, which a least-privileged deploy role may lack.
  const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
  await client.query(`SET search_path TO ${quoted}`);
}

async function ensureMigrationsTable(client: pg.Client, schema: string): Promise<void> {
  const tables = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname = $1`,
    [schema],
  );
  const names = tables.rows.map((row) => row.name);
  if (names.includes('_prisma_migrations')) return;
  if (names.length > 0) {
    // Prisma refuses too (P3005): running `init` over unknown tables would fail half-way or clobber data.
    throw new Error(
      `Migrations: schema "${schema}" already has tables (${names.slice(0, 5).join(', ')}) but no ` +
        '_prisma_migrations table. Baseline it (record the migrations it already has) before migrating.',
    );
  }
  await client.query(CREATE_MIGRATIONS_TABLE);
}

async function checkLockfile(migrationsDir: string): Promise<void> {
  const lockfile = await readFile(join(migrationsDir, 'migration_lock.toml'), 'utf8').catch(() => null);
  const provider = lockfile?.match(/^\s*provider\s*=\s*"([^"]*)"/m)?.[1];
  if (provider !== undefined && provider !== 'postgresql') {
    throw new Error(`Migrations: ${migrationsDir} was written for provider "${provider}", not "postgresql"`);
  }
}

/** Prisma reads the schema from `?schema=` (default public); pg does not know that parameter. */
function splitSchemaParam(databaseUrl: string): { connectionString: string; schema: string } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('Migrations: the database URL is not a valid postgresql:// URL');
  }
  const schema = url.searchParams.get('schema') || 'public';
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

function describeDatabaseError(error: unknown): string {
  if (error instanceof pg.DatabaseError) {
    const parts = [`${error.message} (SQLSTATE ${error.code ?? '?'})`];
    if (error.detail) parts.push(`Detail: ${error.detail}`);
    if (error.hint) parts.push(`Hint: ${error.hint}`);
    if (error.position) parts.push(`Position: character ${error.position}`);
    return parts.join('\n');
  }
  return messageOf(error);
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function unpaddedHex(digest: Buffer): string {
  return Array.from(digest, (byte) => byte.toString(16)).join('');
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
