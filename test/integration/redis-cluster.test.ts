import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { backend, isCi } from '../helpers/backends.js';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';
import { acknowledged, eventually } from '../helpers/connections.js';
import { hasRedisClusterTools, RedisClusterHandle } from '../helpers/redis-cluster.js';
import { topics } from '../../src/realtime/topics.js';
import { RedisConnectionSlots } from '../../src/modules/connections/connection-slots.store.redis.js';
import { RedisVisitorStore } from '../../src/modules/analytics/visitor.store.redis.js';

const tools = hasRedisClusterTools();
if (!tools && isCi() && backend === 'services') throw new Error('CI=true but redis-server / redis-cli are not installed');

const POST_UPDATED = 'subscription($id: ID!) { postUpdated(postId: $id) { post { id title } } }';
const UPDATE = 'mutation($id: ID!, $title: String!) { updatePost(id: $id, input: { title: $title }) { id } }';
const readyStatus = async (app: TestApp) => (await fetch(`http://127.0.0.1:${app.port}/ready`)).status;

// One real cluster for the file: three masters with a replica each (started in parallel, ~2 s), two
// Herald instances on it sharing one PostgreSQL database.
describe.runIf(backend === 'services' && backendAvailable() && tools)('a Redis Cluster of three masters (REDIS_CLUSTER_NODES)', () => {
  let cluster: RedisClusterHandle;
  let shared: TestBackend;
  let a: TestApp;
  let b: TestApp;
  let author: TestUser;
  let reader: TestUser;
  let prefix: string;
  const sockets: WsHandle[] = [];
  const channelOf = (topic: { channel: string }) => prefix + topic.channel;

  beforeAll(async () => {
    [cluster, shared] = await Promise.all([RedisClusterHandle.start({ masters: 3, replicasPerMaster: 1 }), createTestBackend()]);
    const env = { ...cluster.env, TYPING_TTL: '500ms', WS_MAX_CONNECTIONS_PER_USER: '2' };
    [a, b] = await Promise.all([startTestApp(env, shared), startTestApp(env, shared)]);
    prefix = a.env.REDIS_PREFIX as string;
    [author, reader] = await Promise.all([registerUser(a, 'cl_author'), registerUser(a, 'cl_reader')]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await Promise.all([a?.stop(), b?.stop()]);
    await shared?.dispose();
    await cluster?.stop();
  });

  function socket(app: TestApp, user: TestUser): WsHandle {
    const ws = connectWs(app, bearer(user.token));
    sockets.push(ws);
    return ws;
  }

  /** Posts whose postUpdated channels, together, live on every master (slots are hashes of random ids). */
  async function postsOnEveryShard(): Promise<{ id: string; master: number }[]> {
    const masters = new Set(await cluster.masters());
    const found = new Map<number, string>();
    for (let i = 0; i < 30 && found.size < masters.size; i++) {
      const id = await createPost(a, author);
      const master = await cluster.masterOfSlot(await cluster.slotOf(channelOf(topics.postUpdated(id))));
      if (!found.has(master)) found.set(master, id);
    }
    expect(found.size).toBe(masters.size);
    return [...found].map(([master, id]) => ({ id, master }));
  }

  it('delivers events between the instances with sharded pub/sub: each topic only on the shard that owns it', async () => {
    const posts = await postsOnEveryShard();
    // One socket per instance (the cap is 2 per user), one subscription per post on each.
    const [wsA, wsB] = [socket(a, reader), socket(b, reader)];
    const onA = new Map(posts.map((p) => [p.id, new Subscription(wsA.client, POST_UPDATED, { id: p.id })]));
    const onB = new Map(posts.map((p) => [p.id, new Subscription(wsB.client, POST_UPDATED, { id: p.id })]));
    // Both instances have SSUBSCRIBEd each channel on its own shard.
    for (const p of posts) await eventually(async () => (await cluster.shardSubscribers(channelOf(topics.postUpdated(p.id)))) >= 2, 'both instances to SSUBSCRIBE', 10_000);

    const masters = await cluster.masters();
    for (const port of cluster.nodes.map((n) => n.port)) {
      const { sharded, classic } = await cluster.channelsOn(port);
      const mine = posts.filter((p) => p.master === port).map((p) => channelOf(topics.postUpdated(p.id)));
      if (masters.includes(port)) expect(sharded.filter((c) => c.includes(':postUpdated:')).sort()).toEqual(mine.sort());
      // Nothing of ours went through classic SUBSCRIBE, which every node would have to copy.
      expect(classic.filter((c) => c.startsWith(prefix))).toEqual([]);
    }

    // Writes alternate between the instances; every subscriber on both sees every write.
    for (const [i, p] of posts.entries()) await gqlOk(i % 2 === 0 ? a : b, UPDATE, { id: p.id, title: `sharded ${i}` }, author.token);
    for (const [i, p] of posts.entries()) {
      for (const subs of [onA, onB]) await subs.get(p.id)?.until((d) => d.postUpdated.post.title === `sharded ${i}`, 10_000);
    }
    for (const sub of [...onA.values(), ...onB.values()]) sub.stop();
    await Promise.all([wsA.dispose(), wsB.dispose()]);
  });

  it('keeps typing state in the cluster, shared by both instances, and expires it there', async () => {
    const postId = await createPost(a, author);
    await gqlOk(a, 'mutation($id: ID!) { setTyping(postId: $id, isTyping: true) }', { id: postId }, reader.token);
    const typing = new Subscription(socket(b, author).client, 'subscription($id: ID!) { typing(postId: $id) { isTyping typingUsers { id } } }', { id: postId });
    // The snapshot on instance B already shows the typist registered through instance A.
    const first = await typing.next();
    expect(first.data?.typing.typingUsers).toEqual([{ id: reader.id }]);
    // And its expiry, swept through the cluster, arrives as isTyping false.
    await typing.until((d) => d.typing.isTyping === false && d.typing.typingUsers.length === 0, 10_000);
    typing.stop();
  });

  it('holds the per-user connection cap across both instances', async () => {
    const capped = await registerUser(a, 'cl_capped');
    await acknowledged(socket(a, capped));
    await acknowledged(socket(b, capped));
    const third = socket(b, capped);
    expect((await third.closed).code).toBe(4008);
  });

  it('refreshes connection slots through the cluster (one transaction per user) and lets the rest lapse', async () => {
    const client = new Cluster(cluster.startupNodes);
    try {
      const slots = new RedisConnectionSlots(client, `herald-cluster-slots-${Date.now()}:`, 1000);
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
      client.disconnect();
    }
  });

  it('shares rate limits: logins failed on A count on B', async () => {
    const target = await registerUser(a, 'cl_limited');
    const login = 'mutation($e: String!) { login(email: $e, password: "wrong password!") { accessToken } }';
    for (let i = 0; i < 10; i++) {
      const failed = await gql(a, login, { e: target.email });
      expect(failed.errors?.[0]?.extensions?.code).not.toBe('RATE_LIMITED');
    }
    const limited = await gql(b, login, { e: target.email });
    expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('counts live visitors and connections of both instances in the staff figures', async () => {
    const staff = await registerStaff(a);
    const query = '{ analytics { liveVisitors } connectionStats { totalConnections instances { instanceId } } }';
    const before = (await gqlOk(b, query, {}, staff.token)).analytics.liveVisitors as number;
    const visitors = await Promise.all([registerUser(a, 'cl_visitor'), registerUser(a, 'cl_visitor')]);
    for (const v of visitors) await gqlOk(a, 'mutation { trackPageView(path: "/cluster") }', {}, v.token);
    const seen = await eventually(async () => {
      const data = await gqlOk(b, query, {}, staff.token);
      return data.analytics.liveVisitors === before + 2 ? data : undefined;
    }, 'live visitors tracked on A to count on B', 10_000);
    const ids = seen.connectionStats.instances.map((i: { instanceId: string }) => i.instanceId);
    expect(ids).toEqual(expect.arrayContaining([a.app.config.instanceId, b.app.config.instanceId]));
    expect(seen.connectionStats.totalConnections).toBe(a.app.runtime.services.connections.size + b.app.runtime.services.connections.size);

    // The store itself on the cluster: touch and count, trimming what is older than the window.
    const client = new Cluster(cluster.startupNodes);
    try {
      const store = new RedisVisitorStore(client, `herald-cluster-visitors-${Date.now()}:`, 60_000);
      await store.touch(['v1', 'v2'], 1000);
      await store.touch(['v2', 'v3'], 5000);
      expect(await store.countSince(4000)).toBe(2);
    } finally {
      client.disconnect();
    }
  });

  // Last: it leaves one shard without a replica.
  it('survives the failover of the master that owns a topic: subscribers on both instances keep receiving', async () => {
    const postId = await createPost(a, author);
    const channel = channelOf(topics.postUpdated(postId));
    const watcher = await registerUser(a, 'cl_watcher');
    const watchers = [a, b].map((app) => {
      const ws = socket(app, watcher);
      let closed = false;
      void ws.closed.then(() => (closed = true));
      return { sub: new Subscription(ws.client, POST_UPDATED, { id: postId }), closed: () => closed };
    });
    await eventually(async () => (await cluster.shardSubscribers(channel)) >= 2, 'both instances to SSUBSCRIBE', 10_000);
    await gqlOk(a, UPDATE, { id: postId, title: 'before failover' }, author.token);
    for (const w of watchers) await w.sub.until((d) => d.postUpdated.post.title === 'before failover', 10_000);

    const owner = await cluster.masterOfSlot(await cluster.slotOf(channel));
    await cluster.kill(owner);
    await cluster.waitUntilHealthy();
    const promoted = await cluster.masterOfSlot(await cluster.slotOf(channel));
    expect(promoted).not.toBe(owner);

    // Both instances resubscribe on the promoted replica by themselves; the sockets stay open.
    await eventually(async () => (await cluster.shardSubscribers(channel)) >= 2, 'both instances to SSUBSCRIBE on the new master', 20_000);
    await eventually(async () => (await readyStatus(a)) === 200 && (await readyStatus(b)) === 200, '/ready 200 on both', 20_000);
    await eventually(async () => (await gql(b, UPDATE, { id: postId, title: 'after failover' }, author.token)).errors === undefined, 'a write after the failover', 10_000);
    for (const w of watchers) await w.sub.until((d) => d.postUpdated.post.title === 'after failover', 10_000);
    expect(watchers.map((w) => w.closed())).toEqual([false, false]);
  }, 60_000);
});
