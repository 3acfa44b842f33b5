import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../helpers/backends.js';
import { backendAvailable, createTestBackend, TEST_JWT_SECRET, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { eventually, within } from '../helpers/connections.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { startHeraldProcess, type HeraldProcess } from '../helpers/processes.js';
import { waitForChannelSubscribers } from '../helpers/redis-channels.js';
import { topics } from '../../src/realtime/topics.js';

const ROOT = resolve(import.meta.dirname, '../..');
const UPDATE = 'mutation($id: ID!, $title: String!) { updatePost(id: $id, input: { title: $title }) { id } }';

interface Served {
  readonly ws: WsHandle;
  readonly instanceId: string;
}

/** A graphql-ws socket and the instance (worker) that acknowledged it. */
async function open(url: string, token: string): Promise<Served> {
  let ack: { instanceId?: string } = {};
  const ws = connectWs({ wsUrl: url }, bearer(token));
  const acked = new Promise<void>((done) =>
    ws.client.on('connected', (_socket, payload) => {
      ack = (payload ?? {}) as { instanceId?: string };
      done();
    }),
  );
  const refused = ws.closed.then((event) => Promise.reject(new Error(`closed with ${event.code} ${event.reason}`)));
  refused.catch(() => undefined);
  await within(Promise.race([acked, refused]), 10_000, 'connection_ack');
  return { ws, instanceId: ack.instanceId ?? '' };
}

// The embedded refusal needs nothing installed: run it once, in the embedded project.
describe.runIf(backend === 'embedded')('WEB_CONCURRENCY on the embedded database', () => {
  it('refuses with one line and exit code 2 (one process owns PGlite)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', WEB_CONCURRENCY: '2', PORT: '0', DATA_DIR: resolve(ROOT, '.data/never-created') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await within(new Promise<number | null>((done) => child.once('exit', done)), 20_000, 'the refusal');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('Invalid configuration: WEB_CONCURRENCY=2 needs DATABASE_URL: the embedded database (PGlite) belongs to one process\n');
  });
});

describe.runIf(backend === 'services' && backendAvailable())('WEB_CONCURRENCY=2 on PostgreSQL and Redis', () => {
  let shared: TestBackend;
  let primary: HeraldProcess;
  let author: TestUser;
  let reader: TestUser;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    shared = await createTestBackend();
    primary = await startHeraldProcess(shared, { WEB_CONCURRENCY: '2', INSTANCE_ID: `wc-${process.pid}`, JWT_SECRET: TEST_JWT_SECRET, WS_MAX_CONNECTIONS_PER_USER: '100', CLUSTER_METRICS_PORT: '0' });
    // The first worker's "listening" line starts the tests; the second may still be starting (a busy machine).
    await eventually(() => primary.output().includes('all 2 workers accepting'), 'both workers to accept', 60_000);
    const api = { httpUrl: primary.httpUrl } as TestApp;
    [author, reader] = await Promise.all([registerUser(api, 'wc_author'), registerUser(api, 'wc_reader')]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await primary?.stop();
    await shared?.dispose();
  });

  /** Opens sockets on the one port until two different workers have answered; returns one of each. */
  async function oneSocketPerWorker(token: string): Promise<[Served, Served]> {
    const seen = new Map<string, Served>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const served = await open(primary.wsUrl, token);
      sockets.push(served.ws);
      if (!seen.has(served.instanceId)) seen.set(served.instanceId, served);
      else await served.ws.dispose();
    }
    expect(seen.size).toBe(2);
    return [...seen.values()] as [Served, Served];
  }

  it('answers on one port from two workers, each its own instance; an event written through one reaches a subscriber on the other', async () => {
    const [x, y] = await oneSocketPerWorker(reader.token);
    expect(x.instanceId).toMatch(new RegExp(`^wc-${process.pid}-w\\d+$`));
    expect(y.instanceId).not.toBe(x.instanceId);

    const postId = await createPost({ httpUrl: primary.httpUrl } as TestApp, author);
    const sub = new Subscription(x.ws.client, 'subscription($id: ID!) { postUpdated(postId: $id) { post { title } } }', { id: postId });
    await waitForChannelSubscribers(shared.env.REDIS_URL as string, shared.env.REDIS_PREFIX as string, topics.postUpdated(postId));
    // The write goes over a socket served by the other worker.
    const [authorOnX, authorOnY] = await oneSocketPerWorker(author.token);
    const writer = authorOnX.instanceId === x.instanceId ? authorOnY : authorOnX;
    expect(writer.instanceId).toBe(y.instanceId);
    const write = await new Subscription(writer.ws.client, UPDATE, { id: postId, title: 'from the other worker' }).next(10_000);
    expect(write.errors).toBeUndefined();
    await sub.until((d) => d.postUpdated.post.title === 'from the other worker', 10_000);
    sub.stop();
  });

  it('serves the metrics of every worker in one scrape on CLUSTER_METRICS_PORT', async () => {
    const port = await eventually(() => /worker metrics on http:\/\/[^:]+:(\d+)\/metrics/.exec(primary.output())?.[1], 'the metrics port in the log', 10_000);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const instances = new Set([...text.matchAll(/^herald_ws_connections_open\{instance="([^"]+)"\}/gm)].map((m) => m[1]));
    expect([...instances].sort()).toEqual([`wc-${process.pid}-w1`, `wc-${process.pid}-w2`]);
  });

  /** The primary's worker processes (its other children, such as tsx's esbuild service, left out). */
  function workerPids(): number[] {
    const children = execFileSync('pgrep', ['-P', String(primary.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    return children.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.ts');
      } catch {
        return false;
      }
    });
  }

  it('starts another worker, with a new INSTANCE_ID, when one dies', async () => {
    const workers = workerPids();
    expect(workers).toHaveLength(2);
    process.kill(workers[0] as number, 'SIGKILL');
    const replaced = await eventually(async () => {
      const now = workerPids();
      return now.length === 2 && !now.includes(workers[0] as number) ? now : undefined;
    }, 'a replacement worker', 20_000);
    expect(replaced).toContain(workers[1]);
    // The new worker answers on the same port under its own id (w3: the third fork).
    await eventually(async () => {
      const served = await open(primary.wsUrl, reader.token);
      await served.ws.dispose();
      return served.instanceId.endsWith('-w3');
    }, 'the new worker to answer', 30_000);
  }, 60_000);

  it('drains every worker on SIGTERM to the primary: their sockets close with 1001 and it exits 0', async () => {
    const [x, y] = await oneSocketPerWorker(reader.token);
    primary.kill('SIGTERM');
    const codes = await within(Promise.all([x.ws.closed, y.ws.closed]), 15_000, 'both workers closing their sockets');
    expect(codes.map((c) => c.code)).toEqual([1001, 1001]);
    expect((await primary.waitForExit()).code).toBe(0);
    expect(primary.output()).toContain('all workers stopped');
    await expect(gqlOk({ httpUrl: primary.httpUrl }, '{ __typename }')).rejects.toThrow();
  }, 30_000);
});
