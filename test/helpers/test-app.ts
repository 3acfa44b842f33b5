import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { buildApp, type BuildOptions, type HeraldApp } from '../../src/app.js';
import { loadConfig } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { backend, testPostgresUrl, testRedisUrl } from './backends.js';

/** The JWT secret every test server runs with (tests forge tokens against it). */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

export interface TestApp {
  readonly app: HeraldApp;
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** The env this app was configured with (to start a sibling instance on the same backend). */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export interface TestBackend {
  /** Env for an app on this backend: DATA_DIR (embedded) or DATABASE_URL + REDIS_URL + a unique prefix. */
  readonly env: Record<string, string>;
  dispose(): Promise<void>;
}

/** True when the current project can run (services skipped when unreachable outside CI). */
export function backendAvailable(): boolean {
  return backend === 'embedded' || inject('servicesAvailable');
}

/** A fresh, migrated database (copied from the template) and a private Redis namespace. */
export async function createTestBackend(): Promise<TestBackend> {
  if (backend === 'embedded') {
    const dir = await mkdtemp(join(tmpdir(), 'herald-test-'));
    await cp(inject('pgliteTemplateDir'), dir, { recursive: true });
    return { env: { DATA_DIR: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `herald_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('postgresTemplateDb')}`);
  await admin.end();
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), REDIS_URL: testRedisUrl, REDIS_PREFIX: `herald-test-${name}:` },
    async dispose() {
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await client.end();
    },
  };
}

/** Starts a real Herald on port 0 over the given backend (a new one when omitted). */
export async function startTestApp(overrides: Record<string, string> = {}, shared?: TestBackend, options: Omit<BuildOptions, 'logger'> = {}): Promise<TestApp> {
  const ownBackend = shared ? null : await createTestBackend();
  const base = (shared ?? ownBackend) as TestBackend;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    HOST: '127.0.0.1',
    ...base.env,
    ...overrides,
  };
  const config = loadConfig(env);
  const app = buildApp(config, { ...options, logger: createLogger(config.logLevel, { instanceId: config.instanceId }) });
  let port: number;
  try {
    port = await app.start(0);
  } catch (error) {
    await app.stop().catch(() => undefined);
    await ownBackend?.dispose();
    throw error;
  }
  return {
    app,
    port,
    env,
    httpUrl: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    async stop() {
      await app.stop();
      await ownBackend?.dispose();
    },
  };
}
