import { createHash, randomBytes } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, SCHEMA_PATH, diffMigrationsToSchema, loadSchemaEngine } from '../../scripts/migration-new.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/data/embedded.js';
import { applyMigrations, readMigrations } from '../../src/data/migrate.js';
import { isCi, testPostgresUrl } from '../helpers/backends.js';

const ADMIN_URL = testPostgresUrl;
const SLOW = 60_000;
// vitest.config.ts runs integration files once per backend project; outside it (no variable), run both.
const runEmbedded = process.env.HERALD_TEST_BACKEND !== 'services';
const runServices = process.env.HERALD_TEST_BACKEND !== 'embedded';

interface TestDatabase {
  readonly url: string;
  readonly schema: string;
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
  logs: string | null;
}

const committed = await readMigrations(MIGRATIONS_DIR);
const committedNames = committed.map((m) => m.name);
const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A copy of prisma/migrations that a test may change. */
async function copyOfMigrations(): Promise<string> {
  const dir = join(await tempDir('herald-migrations-'), 'migrations');
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

function testDatabase(url: string, schema: string): TestDatabase {
  return {
    url: schema === 'public' ? url : `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`,
    schema,
    async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
      // One short-lived client: the embedded database serves a single connection at a time.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`SET search_path TO "${schema}"`);
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.query('RESET search_path').catch(() => {});
        await client.end();
      }
    },
  };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Tests both targets share; `fresh()` hands out an empty database each call. */
function behavesLikePrismaMigrate(target: string, fresh: () => Promise<TestDatabase>): void {
  it('applies the committed migrations, then a second run is a no-op', { timeout: SLOW }, async () => {
    const db = await fresh();
    const started = performance.now();
    const first = await applyMigrations(db.url);
    const firstMs = performance.now() - started;
    const second = await applyMigrations(db.url);
    console.log(`[measure] ${target}: first apply ${firstMs.toFixed(0)} ms, no-op re-run ${(performance.now() - started - firstMs).toFixed(0)} ms`);

    expect(first.applied).toEqual(committedNames);
    expect(second.applied).toEqual([]);
    const tables = await db.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'User'",
      [db.schema],
    );
    expect(tables).toHaveLength(1);
  });

  it('records each migration exactly as prisma migrate deploy does', { timeout: SLOW }, async () => {
    const db = await fresh();
    await applyMigrations(db.url);
    const rows = await db.query<MigrationRow>('SELECT * FROM _prisma_migrations ORDER BY started_at');
    expect(rows.map((row) => row.migration_name)).toEqual(committedNames);
    for (const [index, row] of rows.entries()) {
      const file = await readFile(join(MIGRATIONS_DIR, committedNames[index] ?? '', 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }
  });

  it('refuses, naming it, an applied migration whose file was edited', { timeout: SLOW }, async () => {
    const db = await fresh();
    await applyMigrations(db.url);
    const edited = await copyOfMigrations();
    await appendFile(join(edited, committedNames[0] ?? '', 'migration.sql'), '\n-- an afterthought\n');
    await expect(applyMigrations(db.url, { migrationsDir: edited })).rejects.toThrow(
      `Migration ${committedNames[0]} was modified after it was applied`,
    );
  });

  it('refuses when the recorded checksum no longer matches the file', { timeout: SLOW }, async () => {
    const db = await fresh();
    await applyMigrations(db.url);
    await db.query("UPDATE _prisma_migrations SET checksum = repeat('0', 64) WHERE migration_name = $1", [committedNames[0]]);
    await expect(applyMigrations(db.url)).rejects.toThrow(`Migration ${committedNames[0]} was modified`);
  });

  it('rolls a failing migration back whole, names it, and blocks later runs', { timeout: SLOW }, async () => {
    const db = await fresh();
    const dir = await copyOfMigrations();
    await mkdir(join(dir, '29991231000000_broken'));
    await writeFile(join(dir, '29991231000000_broken', 'migration.sql'), 'CREATE TABLE "HalfDone" (id INT);\nSELEC 1;\n');

    await expect(applyMigrations(db.url, { migrationsDir: dir })).rejects.toThrow(/Migration 29991231000000_broken failed: syntax error/);
    const halfDone = await db.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [`"${db.schema}"."HalfDone"`]);
    expect(halfDone[0]?.found).toBeNull();
    const [row] = await db.query<MigrationRow>("SELECT * FROM _prisma_migrations WHERE migration_name = '29991231000000_broken'");
    expect(row?.finished_at).toBeNull();
    expect(row?.applied_steps_count).toBe(0);
    expect(row?.logs).toContain('syntax error');
    await expect(applyMigrations(db.url, { migrationsDir: dir })).rejects.toThrow(/29991231000000_broken failed earlier/);
  });

  it('refuses a schema that has tables but no migration history', { timeout: SLOW }, async () => {
    const db = await fresh();
    await db.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"; CREATE TABLE "${db.schema}"."Stray" (id INT)`);
    await expect(applyMigrations(db.url)).rejects.toThrow(/already has tables \(Stray\) but no _prisma_migrations/);
  });
}

describe.runIf(runEmbedded)('applyMigrations on embedded PGlite', () => {
  let embedded: EmbeddedDatabase | undefined;
  let handedOut = 0;

  beforeAll(async () => {
    embedded = await startEmbeddedDatabase(await tempDir('herald-pglite-'));
  }, SLOW);

  afterAll(async () => {
    await embedded?.stop();
  });

  // One PGlite takes seconds to create, so each test after the first gets its own schema in it (?schema=).
  behavesLikePrismaMigrate('PGlite', async () => {
    if (!embedded) throw new Error('embedded database did not start');
    handedOut += 1;
    return testDatabase(embedded.url, handedOut === 1 ? 'public' : `t${handedOut}_${randomBytes(3).toString('hex')}`);
  });
});

const postgresReachable = runServices && (await canConnect(ADMIN_URL));

if (runServices && !postgresReachable && isCi()) {
  describe('applyMigrations on PostgreSQL', () => {
    it('has a PostgreSQL to test against (required when CI=true)', () => {
      throw new Error(`PostgreSQL is unreachable at ${ADMIN_URL}, and CI=true requires the PostgreSQL tests to run`);
    });
  });
} else {
  describe.runIf(postgresReachable)('applyMigrations on PostgreSQL', () => {
    const created: string[] = [];
    const admin = testDatabase(ADMIN_URL, 'public');

    async function freshPostgres(): Promise<TestDatabase> {
      const name = `herald_migrate_test_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      created.push(name);
      const url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
      return testDatabase(url.toString(), 'public');
    }

    afterAll(async () => {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });

    behavesLikePrismaMigrate('PostgreSQL', freshPostgres);

    it('applies once when several processes start together', { timeout: SLOW }, async () => {
      const db = await freshPostgres();
      const results = await Promise.all([1, 2, 3].map(() => applyMigrations(db.url)));
      expect(results.flatMap((result) => result.applied).sort()).toEqual([...committedNames].sort());
      const rows = await db.query<MigrationRow>('SELECT * FROM _prisma_migrations');
      expect(rows).toHaveLength(committedNames.length);
    });

    describe("is interchangeable with Prisma's own engine", () => {
      async function prismaEngine(db: TestDatabase) {
        const engines = await loadSchemaEngine();
        const pool = new pg.Pool({ connectionString: db.url, max: 1 });
        const schema = await readFile(SCHEMA_PATH, 'utf8');
        // The native engine sends each migration file whole; @prisma/adapter-pg 7.10's executeScript splits it on
        // every ";", which breaks the PL/pgSQL bodies of the event_log migration. Send it whole, as the native one.
        const factory = new PrismaPg(pool);
        const connect = factory.connect.bind(factory);
        factory.connect = async () => {
          const adapter = await connect();
          adapter.executeScript = async (script: string) => {
            await pool.query(script);
          };
          return adapter;
        };
        const engine = await engines.SchemaEngine.new({ datamodels: [['schema.prisma', schema]] }, () => {}, bindMigrationAwareSqlAdapterFactory(factory));
        return {
          engine,
          async close() {
            engine.free();
            await pool.end();
          },
        };
      }

      async function migrationsList(dir = MIGRATIONS_DIR) {
        const migrations = await readMigrations(dir);
        return {
          baseDir: dir,
          lockfile: { path: 'migration_lock.toml', content: await readFile(join(dir, 'migration_lock.toml'), 'utf8') },
          shadowDbInitScript: '',
          migrationDirectories: migrations.map((m) => ({
            path: m.name,
            migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: m.script } },
          })),
        };
      }
      const filters = { externalTables: [], externalEnums: [] };

      it('Prisma sees our history as clean and up to date, and flags the same edits', { timeout: SLOW }, async () => {
        const db = await freshPostgres();
        await applyMigrations(db.url);
        const prisma = await prismaEngine(db);
        try {
          const clean = await prisma.engine.diagnoseMigrationHistory({ migrationsList: await migrationsList(), optInToShadowDatabase: false, filters });
          expect(clean).toMatchObject({ editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
          const again = await prisma.engine.applyMigrations({ migrationsList: await migrationsList(), filters });
          expect(again.appliedMigrationNames).toEqual([]);

          const edited = await copyOfMigrations();
          await appendFile(join(edited, committedNames[0] ?? '', 'migration.sql'), '\n-- edited\n');
          const dirty = await prisma.engine.diagnoseMigrationHistory({ migrationsList: await migrationsList(edited), optInToShadowDatabase: false, filters });
          expect(dirty.editedMigrationNames).toEqual([committedNames[0]]);
        } finally {
          await prisma.close();
        }
      });

      it("accepts a database migrated by Prisma's engine as up to date", { timeout: SLOW }, async () => {
        const db = await freshPostgres();
        const prisma = await prismaEngine(db);
        try {
          const applied = await prisma.engine.applyMigrations({ migrationsList: await migrationsList(), filters });
          expect(applied.appliedMigrationNames).toEqual(committedNames);
        } finally {
          await prisma.close();
        }
        expect((await applyMigrations(db.url)).applied).toEqual([]);
      });
    });
  });
}

describe.runIf(runEmbedded)('migration authoring (scripts/migration-new.ts)', () => {
  it('finds no difference between prisma/schema.prisma and the committed migrations', { timeout: SLOW }, async () => {
    // Fails when the schema changed without a migration: run `npm run migration:new -- <name>`.
    expect(await diffMigrationsToSchema()).toBeNull();
  });

  it('renders the SQL for a schema change', { timeout: SLOW }, async () => {
    const dir = await tempDir('herald-schema-');
    const schemaPath = join(dir, 'schema.prisma');
    const schema = await readFile(SCHEMA_PATH, 'utf8');
    await writeFile(schemaPath, `${schema}\nmodel MigrationProbe {\n  id    Int    @id\n  label String\n}\n`);
    const script = await diffMigrationsToSchema(schemaPath, MIGRATIONS_DIR);
    expect(script).toContain('CREATE TABLE "MigrationProbe"');
    expect(script).not.toContain('CREATE TABLE "User"');
  });
});
