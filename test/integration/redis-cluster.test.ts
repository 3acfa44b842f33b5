import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { backend, isCi } from '../helpers/backends.js';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { freePort } from '../helpers/faults.js';
import { RedisConnectionSlots } from '../../src/modules/connections/connection-slots.store.redis.js';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && isCi() && backend === 'services') throw new Error('CI=true but redis-server is not installed');

/** A single-node Redis in cluster mode (all 16384 slots on one node): the cluster code path without a real cluster. */
async function startClusterNode(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'herald-cluster-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(dir, 'nodes.conf'), '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
  while (cli('ping').stdout.trim() !== 'PONG') {
    if (Date.now() > deadline) throw new Error('cluster node did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  cli('cluster', 'addslotsrange', '0', '16383');
  while (!cli('cluster', 'info').stdout.includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error('cluster did not become ok');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.runIf(backend === 'services' && backendAvailable() && hasRedisServer)('Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let node: { port: number; stop(): Promise<void> };
  let shared: TestBackend;
  let a: TestApp;
  let b: TestApp;
  let author: TestUser;
  let reader: TestUser;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    node = await startClusterNode();
    shared = await createTestBackend();
    const clusterEnv = { REDIS_URL: '', REDIS_CLUSTER_NODES: `127.0.0.1:${node.port}`, TYPING_TTL: '500ms' };
    a = await startTestApp(clusterEnv, shared);
    b = await startTestApp(clusterEnv, shared);
    author = await registerUser(a, 'cl_author');
    reader = await registerUser(a, 'cl_reader');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await a?.stop();
    await b?.stop();
    await shared?.dispose();
    await node?.stop();
  });

  it('runs pub/sub through the cluster: a write on one instance reaches a subscriber on the other', async () => {
    expect((await (await fetch(`http://127.0.0.1:${a.port}/ready`)).json()).redis).toBe('UP');
    const postId = await createPost(a, author);
    const ws = connectWs(b, bearer(reader.token));
    sockets.push(ws);
    const updates = new Subscription(ws.client, 'subscription($id: ID!) { postUpdated(postId: $id) { post { title } } }', { id: postId });
    const deadline = Date.now() + 5000;
    while (b.app.runtime.pubsub.openStreams('postUpdated') < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // The SUBSCRIBE has reached the cluster once the channel shows up in PUBSUB CHANNELS.
    const probe = new Cluster([{ host: '127.0.0.1', port: node.port }]);
    try {
      while (Date.now() < deadline) {
        const channels = (await probe.pubsub('CHANNELS', '*')) as string[];
        if (channels.some((c) => c.endsWith(`postUpdated:${postId}`))) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      probe.disconnect();
    }
    await gqlOk(a, 'mutation($id: ID!) { updatePost(id: $id, input: { title: "Through the cluster" }) { id } }', { id: postId }, author.token);
    const event = await updates.until((d) => d.postUpdated.post.title === 'Through the cluster');
    expect(event.postUpdated.post.title).toBe('Through the cluster');
  });

  it('keeps typing state in the cluster, shared by both instances, and expires it there', async () => {
    const postId = await createPost(a, author);
    await gqlOk(a, 'mutation($id: ID!) { setTyping(postId: $id, isTyping: true) }', { id: postId }, reader.token);
    const ws = connectWs(b, bearer(author.token));
    sockets.push(ws);
    const typing = new Subscription(ws.client, 'subscription($id: ID!) { typing(postId: $id) { isTyping typingUsers { id } } }', { id: postId });
    // The snapshot on instance B already shows the typist registered through instance A.
    const first = await typing.next();
    expect(first.data?.typing.typingUsers).toEqual([{ id: reader.id }]);
    // And its expiry, swept through the cluster, arrives as isTyping false.
    await typing.until((d) => d.typing.isTyping === false && d.typing.typingUsers.length === 0, 10_000);
  });

  it('refreshes connection slots through the cluster (one transaction per user) and lets the rest lapse', async () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: node.port }]);
    try {
      const slots = new RedisConnectionSlots(cluster, `herald-cluster-slots-${Date.now()}:`, 1000);
      for (const id of ['a1', 'a2']) expect(await slots.acquire('ua', id, 2)).toBe(true);
      expect(await slots.acquire('ub', 'b1', 1)).toBe(true);
      await new Promise((r) => setTimeout(r, 600));
      await slots.refresh([
        { userId: 'ua', connectionId: 'a1' },
        { userId: 'ub', connectionId: 'b1' },
      ]);
      await new Promise((r) => setTimeout(r, 600));
      expect(await slots.acquire('ua', 'a3', 2)).toBe(true);
      expect(await slots.acquire('ua', 'a4', 2)).toBe(false);
      expect(await slots.acquire('ub', 'b2', 1)).toBe(false);
    } finally {
      cluster.disconnect();
    }
  });
});
