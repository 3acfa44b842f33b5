import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedDatabase } from '../../src/data/embedded.js';
import { applyMigrations } from '../../src/data/migrate.js';
import { isCi, servicesReachable, testPostgresUrl } from './backends.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Hash of every migration: the template is rebuilt only when migrations change. */
async function migrationsHash(): Promise<string> {
  const dir = join(ROOT, 'prisma/migrations');
  const hash = createHash('sha256');
  for (const name of (await readdir(dir)).sort()) {
    const file = join(dir, name, 'migration.sql');
    if (existsSync(file)) hash.update(name).update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Initialising a PGlite data dir takes seconds, so one migrated template is built (and cached in
 * .data/) and each test file copies it. For PostgreSQL, a migrated template database is cloned per file.
 */
export default async function setup(project: TestProject): Promise<void> {
  const hash = await migrationsHash();
  const templateDir = join(ROOT, '.data/test-templates', hash);
  if (!existsSync(join(templateDir, 'pglite'))) {
    const building = `${templateDir}.building-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    await mkdir(building, { recursive: true });
    const db = await startEmbeddedDatabase(building);
    await applyMigrations(db.url);
    await db.stop();
    await rm(templateDir, { recursive: true, force: true });
    await rename(building, templateDir).catch(async () => rm(building, { recursive: true, force: true }));
  }
  project.provide('pgliteTemplateDir', templateDir);

  const available = await servicesReachable();
  if (!available && isCi()) {
    throw new Error(`CI=true but PostgreSQL or Redis is unreachable (TEST_DATABASE_URL=${testPostgresUrl}); start them first (.ci/run does).`);
  }
  project.provide('servicesAvailable', available);
  if (available) {
    const templateDb = `herald_template_${hash}`;
    const client = new pg.Client({ connectionString: testPostgresUrl });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [templateDb]);
      if (exists.rowCount === 0) {
        const building = `${templateDb}_b${process.pid}`;
        await client.query(`DROP DATABASE IF EXISTS ${building}`);
        await client.query(`CREATE DATABASE ${building}`);
        const url = new URL(testPostgresUrl);
        url.pathname = `/${building}`;
        await applyMigrations(url.toString());
        await client.query(`ALTER DATABASE ${building} RENAME TO ${templateDb}`).catch(() => client.query(`DROP DATABASE IF EXISTS ${building}`));
      }
    } finally {
      await client.end();
    }
    project.provide('postgresTemplateDb', templateDb);
  } else {
    project.provide('postgresTemplateDb', '');
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplateDir: string;
    servicesAvailable: boolean;
    postgresTemplateDb: string;
  }
}
