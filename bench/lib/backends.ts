/**
 * What Herald peers need around them: a throw-away PostgreSQL database (created and dropped by the run;
 * embedded PGlite in a temp DATA_DIR when no server answers) and a Redis of our own (pinned with the
 * server, so its CPU can be counted), falling back to the shared one at 6379.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pinned, SERVER_CORE, stopChild, track, waitFor } from './proc.js';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface Database {
  /** undefined: embedded (each Herald process gets its own temp DATA_DIR). */
  readonly url: string | undefined;
  readonly label: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(): Promise<Database> {
  const name = `herald_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch {
    await admin.end().catch(() => undefined);
    return { url: undefined, label: 'embedded PGlite (temp DATA_DIR)', drop: async () => undefined };
  }
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    label: 'PostgreSQL (bench database, dropped after the run)',
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await client.end();
    },
  };
}

export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RedisServer {
  readonly url: string;
  /** Our own redis-server's pid (its CPU counts with the server's), or null when using a shared one. */
  readonly pid: number | null;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end('PING\r\n');
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const [cmd, args] = pinned(SERVER_CORE, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes']);
  let child: ChildProcess | null = null;
  try {
    child = spawn(cmd, args, { stdio: 'ignore' });
    track(child);
    const spawned = child;
    const failed = new Promise<boolean>((resolve) => spawned.once('error', () => resolve(false)));
    const up = await Promise.race([waitFor(() => answers(port), 5000, 50), failed]);
    if (up && child.pid) {
      const own = child;
      return { url: `redis://127.0.0.1:${port}`, pid: own.pid!, stop: () => stopChild(own, 3000) };
    }
  } catch {
    // fall through to the shared Redis
  }
  if (child) await stopChild(child, 1000);
  return { url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', pid: null, stop: async () => undefined };
}
