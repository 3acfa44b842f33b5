import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../helpers/backends.js';
import { gql, gqlOk } from '../helpers/clients.js';
import { EMBEDDED_URL_FILE } from '../../src/data/embedded.js';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend, TEST_JWT_SECRET } from '../helpers/test-app.js';
import { CLEANUP_LOCK_KEY, FINALISED_CLOSE_CODE } from '../../src/modules/connections/cleanup.service.js';
import { freePort } from '../helpers/faults.js';

const ROOT = resolve(import.meta.dirname, '../..');
const JWT_SECRET = TEST_JWT_SECRET;
const HOUR = 3_600_000;

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI as an operator would, in a child process. `node --import tsx` rather than the tsx binary:
 * one Node process instead of two, which halves the start-up cost of every call.
 */
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET, ...env };
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Starts the server (`src/main.ts`) and waits for it to exit: for a start that must be refused. */
function startMain(env: Record<string, string>): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A server that starts instead of refusing would never exit: stop it so the test fails instead of hanging.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('CLI arguments', () => {
  it('prints usage and exits non-zero on bad arguments', async () => {
    const [missing, unknown] = await Promise.all([cli(['user', 'create', '--email', 'a@b.c']), cli(['cleanup', '--hours', 'soon', '--frobnicate'])]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Missing required option --password');
    expect(missing.stderr).toContain('Usage:');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/frobnicate|--hours/);
    expect(unknown.stderr).toContain('npm run cli -- cleanup');
  }, 60_000);
});

describe.runIf(backendAvailable())('CLI against the database and a running server', () => {
  let shared: TestBackend;
  let app: TestApp | null = null;
  let dbEnv: Record<string, string>;
  const email = `cli_staff_${Date.now()}@example.test`;
  let token = '';
  let cleanupOutput = '';
  const ids = { oldClosed: '', recentClosed: '', staleOpen: '', liveOpen: '' };

  beforeAll(async () => {
    shared = await createTestBackend();
    // The CLI sees the same database as the app; no PORT of a real server on this machine can interfere.
    dbEnv = { ...shared.env, PORT: String(await freePort()) };
    // Records written the way connection tracking writes them, through a first app (the embedded
    // database can be opened by one process at a time, so it stops before the CLI runs).
    const seeding = await startTestApp({}, shared);
    try {
      const db = seeding.app.runtime.db;
      const now = Date.now();
      const make = (data: { connectedAt: Date; lastSeenAt: Date; closedAt?: Date; closeCode?: number }) =>
        db.webSocketConnection.create({ data: { instanceId: 'cli-test-instance', ip: '127.0.0.1', userAgent: 'vitest', ...data } });
      ids.oldClosed = (await make({ connectedAt: new Date(now - 50 * HOUR), lastSeenAt: new Date(now - 48 * HOUR), closedAt: new Date(now - 48 * HOUR), closeCode: 1000 })).id;
      ids.recentClosed = (await make({ connectedAt: new Date(now - 2 * HOUR), lastSeenAt: new Date(now - HOUR), closedAt: new Date(now - HOUR), closeCode: 1000 })).id;
      ids.staleOpen = (await make({ connectedAt: new Date(now - 3 * HOUR), lastSeenAt: new Date(now - 2 * HOUR) })).id;
      ids.liveOpen = (await make({ connectedAt: new Date(now - 60_000), lastSeenAt: new Date(now - 5_000) })).id;
    } finally {
      await seeding.stop();
    }
  });

  afterAll(async () => {
    await app?.stop();
    await shared?.dispose();
  });

  it('creates a staff user, cleans up connection records, and issues a token', async () => {
    const created = await cli(['user', 'create', '--email', email, '--password', 'correct horse battery', '--username', `cli_${Date.now()}`, '--role', 'STAFF'], dbEnv);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Created STAFF');

    const cleaned = await cli(['cleanup', '--hours', '24'], dbEnv);
    expect(cleaned.code).toBe(0);
    cleanupOutput = cleaned.stdout;
    expect(cleanupOutput).toMatch(/finalised 1 stale open record/);
    expect(cleanupOutput).toMatch(/deleted 1 closed record/);

    const issued = await cli(['token', '--user', email, '--quiet'], dbEnv);
    expect(issued.code).toBe(0);
    token = issued.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    // Three cold starts of Node + Prisma (+ PGlite) in a row: generous on a loaded machine.
  }, 180_000);

  it('the token works on a running server, and cleanup touched only what it should', async () => {
    expect(token).not.toBe('');
    // A short interval so the periodic in-server job can be observed below.
    app = await startTestApp({ WS_CLEANUP_INTERVAL: '200ms' }, shared);
    const me = await gqlOk<{ me: { email: string; role: string } }>(app, '{ me { email role } }', {}, token);
    expect(me.me).toEqual({ email, role: 'STAFF' });

    const db = app.app.runtime.db;
    const rows = await db.webSocketConnection.findMany({ where: { id: { in: Object.values(ids) } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.has(ids.oldClosed)).toBe(false);
    expect(byId.get(ids.recentClosed)?.closeCode).toBe(1000);
    const stale = byId.get(ids.staleOpen);
    expect(stale?.closedAt?.getTime()).toBe(stale?.lastSeenAt.getTime());
    expect(stale?.closeCode).toBe(FINALISED_CLOSE_CODE);
    expect(byId.get(ids.liveOpen)?.closedAt).toBeNull();
  });

  it('the periodic in-server job finalises a record left open by a dead instance', async () => {
    expect(app).not.toBeNull();
    const db = app!.app.runtime.db;
    const abandoned = await db.webSocketConnection.create({
      data: { instanceId: 'crashed-instance', connectedAt: new Date(Date.now() - 3 * HOUR), lastSeenAt: new Date(Date.now() - 2 * HOUR) },
    });
    const deadline = Date.now() + 10_000;
    let closeCode: number | null = null;
    while (Date.now() < deadline && closeCode === null) {
      closeCode = (await db.webSocketConnection.findUniqueOrThrow({ where: { id: abandoned.id } })).closeCode;
      if (closeCode === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(closeCode).toBe(FINALISED_CLOSE_CODE);
  });

  it.runIf(backend === 'services')('skips a pass while another instance holds the cleanup lock', async () => {
    const holder = new pg.Client({ connectionString: shared.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [CLEANUP_LOCK_KEY]);
      const result = await app!.app.runtime.services.connectionCleanup.run({ retentionMs: HOUR, staleAfterMs: HOUR });
      expect(result.skipped).toBe(true);
    } finally {
      await holder.end();
    }
  });

  it('health exits 0 against a running app and non-zero against a dead port', async () => {
    const [healthy, dead] = await Promise.all([cli(['health', '--url', app!.httpUrl]), cli(['health', '--url', `http://127.0.0.1:${await freePort()}`])]);
    expect(healthy?.code).toBe(0);
    expect(healthy?.stdout).toMatch(/^OK /);
    expect(healthy?.stdout).toContain('"database": "UP"');
    expect(dead?.code).not.toBe(0);
    expect(dead?.stderr).toContain('UNREACHABLE');
  }, 120_000);

  // Embedded only: while the server holds the data dir, nothing else may open it, whatever PORT it was given
  // (the server's health probe on PORT finds nothing here), and nothing it does removes the server's files.
  it.runIf(backend === 'embedded')('refuses the CLI and a second server on a data dir a server holds, with one line', async () => {
    const marker = join(shared.env.DATA_DIR as string, EMBEDDED_URL_FILE);
    const before = await readFile(marker, 'utf8');
    const elsewhere = { ...shared.env, PORT: String(await freePort()) };
    const [token, server] = await Promise.all([cli(['token', '--user', email], elsewhere), startMain({ ...shared.env, PORT: '0', HOST: '127.0.0.1' })]);
    for (const refused of [token, server]) {
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toContain('is in use by a running Herald server');
      expect(refused.stderr).toContain('DATABASE_URL');
    }
    expect(await readFile(marker, 'utf8')).toBe(before);
    // The server is untouched and still serves.
    expect((await gqlOk<{ health: { database: string } }>(app!, '{ health { database } }')).health.database).toBe('UP');
  }, 120_000);

  it.runIf(backend === 'services')('set-role refuses the user’s older tokens on a running server at once (published through Redis)', async () => {
    expect((await gqlOk<{ me: { role: string } }>(app!, '{ me { role } }', {}, token)).me.role).toBe('STAFF');
    const changed = await cli(['user', 'set-role', '--email', email, '--role', 'READER'], dbEnv);
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('is now READER');
    // The server had just accepted the token (a cached "not revoked" answer): the event must reach it.
    const result = await gql(app!, '{ me { role } }', {}, token);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  }, 60_000);
});
