import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { backend } from '../helpers/backends.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { OwnRedis, TcpProxy } from '../helpers/faults.js';
import { waitForChannelSubscribers } from '../helpers/redis-channels.js';
import { eventually } from '../helpers/connections.js';
import { startHeraldProcesses, type HeraldProcess } from '../helpers/processes.js';
import { topics } from '../../src/realtime/topics.js';

const POST_UPDATED = 'subscription($postId: ID!) { postUpdated(postId: $postId) { eventId change post { title } } }';
const NOTIFICATIONS = 'subscription { notifications { eventId notificationType } }';
const UPDATE = 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id title } }';
const readyStatus = async (httpUrl: string) => (await fetch(new URL('/ready', httpUrl))).status;

describe.runIf(backend === 'services' && backendAvailable())('faults', () => {
  const sockets: WsHandle[] = [];
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
  });

  describe('Redis goes away mid-stream and comes back', () => {
    let redis: OwnRedis;
    let shared: TestBackend;
    let app: TestApp;
    /** A second instance: its writes reach `app`'s subscribers only through Redis (or the event log's reads). */
    let writer: TestApp;
    let author: TestUser;

    beforeAll(async () => {
      redis = await OwnRedis.start();
      shared = await createTestBackend();
      app = await startTestApp({ REDIS_URL: redis.url }, shared);
      writer = await startTestApp({ REDIS_URL: redis.url }, shared);
      author = await registerUser(app, 'fault_redis');
    });
    afterAll(async () => {
      await writer?.stop();
      await app?.stop();
      await shared?.dispose();
      await redis?.down();
    });

    it('survives, reports 503 on /ready, stores writes meanwhile, and resumes live subscriptions without reconnecting', async () => {
      const postId = await createPost(app, author);
      const ws = connectWs(app, bearer(author.token));
      sockets.push(ws);
      let closedEarly = false;
      void ws.closed.then(() => (closedEarly = true));
      const sub = new Subscription(ws.client, POST_UPDATED, { postId });
      const inboxLive = new Subscription(ws.client, NOTIFICATIONS);
      await waitForChannelSubscribers(redis.url, app.env.REDIS_PREFIX as string, topics.postUpdated(postId));
      await waitForChannelSubscribers(redis.url, app.env.REDIS_PREFIX as string, topics.notificationCreated(author.id));
      await gqlOk(writer, UPDATE, { id: postId, input: { title: 'before' } }, author.token);
      const before = await sub.until((d) => d.postUpdated.post?.title === 'before');

      await redis.down();
      await eventually(async () => (await readyStatus(app.httpUrl)) === 503, '/ready 503', 10_000);
      // Writes while Redis is gone are stored (their live event cannot be sent; the data is not lost).
      const during = await gqlOk(writer, UPDATE, { id: postId, input: { title: 'during' } }, author.token);
      expect(during.updatePost.title).toBe('during');
      // A like and a comment from a reader: their notifications to the author are stored, not lost.
      const reader = await registerUser(app, 'fault_reader');
      await gqlOk(writer, 'mutation($id: ID!) { likePost(postId: $id) { likeCount } }', { id: postId }, reader.token);
      await gqlOk(writer, 'mutation($id: ID!) { addComment(postId: $id, content: "written while Redis was down") { id } }', { id: postId }, reader.token);
      expect((await fetch(new URL('/health', app.httpUrl))).status).toBe(200);

      await redis.up();
      await eventually(async () => (await readyStatus(app.httpUrl)) === 200, '/ready 200', 20_000);
      await waitForChannelSubscribers(redis.url, app.env.REDIS_PREFIX as string, topics.postUpdated(postId), 1, 15_000);
      const stored = await gqlOk(app, 'query($id: ID!) { post(id: $id) { title } }', { id: postId }, author.token);
      expect(stored.post.title).toBe('during');
      const inbox = await gqlOk(app, '{ notifications(first: 10) { edges { node { notificationType } } } }', {}, author.token);
      const types = inbox.notifications.edges.map((e: { node: { notificationType: string } }) => e.node.notificationType);
      expect(types).toEqual(expect.arrayContaining(['POST_LIKED', 'COMMENT_ADDED']));
      // The events written while Redis was away reach the subscriber that stayed connected, once each, in order.
      const missed = (await sub.next(10_000)).data as { postUpdated: { eventId: string; post: { title: string } } };
      expect(missed.postUpdated.post.title).toBe('during');
      expect(missed.postUpdated.eventId > before.postUpdated.eventId).toBe(true);
      const notified = [(await inboxLive.next(10_000)).data, (await inboxLive.next(10_000)).data] as { notifications: { notificationType: string } }[];
      expect(notified.map((n) => n.notifications.notificationType).sort()).toEqual(['COMMENT_ADDED', 'POST_LIKED']);
      await gqlOk(writer, UPDATE, { id: postId, input: { title: 'after' } }, author.token);
      const after = (await sub.next(10_000)).data as { postUpdated: { eventId: string; post: { title: string } } };
      expect(after.postUpdated.post.title).toBe('after');
      expect(sub.pending).toBe(0);
      expect(inboxLive.pending).toBe(0);
      expect(closedEarly).toBe(false);
    });
  });

  describe('the database goes away and comes back', () => {
    let proxy: TcpProxy;
    let shared: TestBackend;
    let app: TestApp;
    let author: TestUser;

    beforeAll(async () => {
      shared = await createTestBackend();
      const direct = new URL(shared.env.DATABASE_URL as string);
      proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
      const viaProxy = new URL(direct);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      app = await startTestApp({ DATABASE_URL: viaProxy.toString() }, shared);
      author = await registerUser(app, 'fault_db');
    });
    afterAll(async () => {
      await app?.stop();
      await proxy?.cut();
      await shared?.dispose();
    });

    it('answers SERVICE_UNAVAILABLE while it is gone, keeps the process up, and recovers', async () => {
      const postId = await createPost(app, author);
      await proxy.cut();
      const failed = await gql(app, 'query($id: ID!) { post(id: $id) { title } }', { id: postId }, author.token);
      expect(failed.errors?.[0]?.extensions?.code, JSON.stringify(failed.errors)).toBe('SERVICE_UNAVAILABLE');
      const write = await gql(app, UPDATE, { id: postId, input: { title: 'lost?' } }, author.token);
      expect(write.errors?.[0]?.extensions?.code, JSON.stringify(write.errors)).toBe('SERVICE_UNAVAILABLE');
      expect(await readyStatus(app.httpUrl)).toBe(503);
      expect((await fetch(new URL('/health', app.httpUrl))).status).toBe(200);

      await proxy.restore();
      await eventually(async () => (await gql(app, 'query($id: ID!) { post(id: $id) { title } }', { id: postId }, author.token)).data?.post?.title === 'A post', 'database recovery', 20_000);
      await gqlOk(app, UPDATE, { id: postId, input: { title: 'recovered' } }, author.token);
      expect(await readyStatus(app.httpUrl)).toBe(200);
    });
  });

  describe('an instance is killed with SIGKILL', () => {
    let shared: TestBackend;
    let procs: HeraldProcess[] = [];

    beforeAll(async () => {
      shared = await createTestBackend();
      procs = await startHeraldProcesses(2, shared);
    }, 120_000);
    afterAll(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await shared?.dispose();
    });

    it('lets its clients reconnect to another instance (graphql-ws retry) and resubscribe', async () => {
      const [a, b] = procs as [HeraldProcess, HeraldProcess];
      const author = await registerUser({ httpUrl: a.httpUrl } as TestApp, 'fault_kill');
      const postId = await createPost({ httpUrl: a.httpUrl } as TestApp, author);
      // A load balancer in miniature: the first connection goes to A, reconnects go to B.
      const urls = [a.wsUrl, b.wsUrl];
      let attempt = 0;
      let connectedTo = '';
      const client = createClient({
        url: () => urls[Math.min(attempt++, 1)] as string,
        webSocketImpl: WebSocket,
        connectionParams: bearer(author.token),
        retryAttempts: 5,
        retryWait: async () => new Promise((r) => setTimeout(r, 200)),
        shouldRetry: () => true,
        on: { connected: (socket) => (connectedTo = (socket as WebSocket).url) },
      });
      try {
        const sub = new Subscription(client, POST_UPDATED, { postId });
        await waitForChannelSubscribers(shared.env.REDIS_URL as string, shared.env.REDIS_PREFIX as string, topics.postUpdated(postId));
        expect(connectedTo).toBe(a.wsUrl);

        a.kill('SIGKILL');
        expect((await a.waitForExit()).signal).toBe('SIGKILL');
        await eventually(() => connectedTo === b.wsUrl, 'reconnect to B', 15_000);
        await waitForChannelSubscribers(shared.env.REDIS_URL as string, shared.env.REDIS_PREFIX as string, topics.postUpdated(postId), 1, 15_000);
        await gqlOk({ httpUrl: b.httpUrl } as TestApp, UPDATE, { id: postId, input: { title: 'after the crash' } }, author.token);
        await sub.until((d) => d.postUpdated.post?.title === 'after the crash', 10_000);
      } finally {
        await client.dispose();
      }
    });
  });
});
