import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, createTestBackend, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { backend } from '../helpers/backends.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { startHeraldProcesses, type HeraldProcess } from '../helpers/processes.js';
import { waitForChannelSubscribers } from '../helpers/redis-channels.js';
import { topics, type Topic, type TopicKey } from '../../src/realtime/topics.js';

// Real child processes sharing one PostgreSQL database and one Redis namespace: what a load balancer
// in front of several instances sees. Needs Redis, so only the services project runs it.
describe.runIf(backend === 'services' && backendAvailable())('several Herald processes on one database and Redis', () => {
  let shared: TestBackend;
  let a: HeraldProcess;
  let b: HeraldProcess;
  let author: TestUser;
  let reader: TestUser;
  let postId: string;
  const sockets: WsHandle[] = [];
  // The user helpers only need the HTTP URL; they talk to the API like any client.
  const asApp = (p: HeraldProcess) => ({ httpUrl: p.httpUrl, wsUrl: p.wsUrl }) as unknown as TestApp;
  const waitFor = <K extends TopicKey>(topic: Topic<K>) => waitForChannelSubscribers(shared.env.REDIS_URL as string, shared.env.REDIS_PREFIX as string, topic);

  beforeAll(async () => {
    shared = await createTestBackend();
    [a, b] = (await startHeraldProcesses(2, shared)) as [HeraldProcess, HeraldProcess];
    author = await registerUser(asApp(a), 'mi_author');
    reader = await registerUser(asApp(b), 'mi_reader');
    postId = await createPost(asApp(a), author);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await Promise.all([a?.stop(), b?.stop()]);
    await shared?.dispose();
  });

  function subscribeOn(proc: HeraldProcess, user: TestUser, query: string, variables: Record<string, unknown> = {}) {
    const ws = connectWs({ wsUrl: proc.wsUrl }, bearer(user.token));
    sockets.push(ws);
    return new Subscription(ws.client, query, variables);
  }

  it('runs each instance as its own process on its own port', () => {
    expect(a.pid).not.toBe(b.pid);
    expect(a.port).not.toBe(b.port);
  });

  it('delivers postUpdated written through A to a subscriber on B', async () => {
    const sub = subscribeOn(b, reader, 'subscription($postId: ID!) { postUpdated(postId: $postId) { change post { title } } }', { postId });
    await waitFor(topics.postUpdated(postId));
    await gqlOk(asApp(a), 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }', { id: postId, input: { title: 'From A' } }, author.token);
    const event = await sub.until((d) => d.postUpdated.post?.title === 'From A', 10_000);
    expect(event.postUpdated.change).toBe('UPDATED');
    sub.stop();
  });

  it('delivers postStats changes (a like on A) to a subscriber on B', async () => {
    const sub = subscribeOn(b, reader, 'subscription($postId: ID!) { postStats(postId: $postId) { likeCount viewCount } }', { postId });
    await sub.next(10_000); // the counters now
    await waitFor(topics.postStatsChanged(postId));
    await gqlOk(asApp(a), 'mutation($postId: ID!) { likePost(postId: $postId) { likeCount } }', { postId }, reader.token);
    const event = await sub.until((d) => d.postStats.likeCount === 1, 10_000);
    expect(event.postStats.likeCount).toBe(1);
    sub.stop();
  });

  it('delivers commentAdded and the COMMENT_ADDED notification written through A to subscribers on B', async () => {
    const comments = subscribeOn(b, author, 'subscription($postId: ID!) { commentAdded(postId: $postId) { comment { content status } } }', { postId });
    const notifications = subscribeOn(b, author, 'subscription { notifications(types: [COMMENT_ADDED]) { notificationType message } }');
    await waitFor(topics.commentAdded(postId));
    await waitFor(topics.notificationCreated(author.id));
    await gqlOk(asApp(a), 'mutation($postId: ID!, $c: String!) { addComment(postId: $postId, content: $c) { id } }', { postId, c: 'hello across instances' }, reader.token);
    const comment = await comments.until((d) => d.commentAdded.comment.content === 'hello across instances', 10_000);
    expect(comment.commentAdded.comment.status).toBe('PENDING');
    const note = await notifications.until((d) => d.notifications.notificationType === 'COMMENT_ADDED', 10_000);
    expect(note.notifications.notificationType).toBe('COMMENT_ADDED');
    comments.stop();
    notifications.stop();
  });

  it('delivers typing set on A to a subscriber on B, with the same typing set', async () => {
    const sub = subscribeOn(b, author, 'subscription($postId: ID!) { typing(postId: $postId) { isTyping typingUsers { id } } }', { postId });
    await waitFor(topics.typingChanged(postId));
    await gqlOk(asApp(a), 'mutation($postId: ID!) { setTyping(postId: $postId, isTyping: true) }', { postId }, reader.token);
    const event = await sub.until((d) => d.typing.isTyping === true, 10_000);
    expect(event.typing.typingUsers.map((u: { id: string }) => u.id)).toContain(reader.id);
    sub.stop();
  });

  it('delivers a staff dashboard on B that reflects a page view tracked on A', async () => {
    const staff = await registerUser(asApp(a), 'mi_staff');
    const db = new pg.Client({ connectionString: shared.env.DATABASE_URL });
    await db.connect();
    await db.query(`UPDATE "User" SET role = 'STAFF' WHERE id = $1`, [staff.id]);
    await db.end();
    const login = await gqlOk<{ login: { accessToken: string } }>(asApp(b), 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', { e: staff.email, p: staff.password });
    const sub = subscribeOn(b, { ...staff, token: login.login.accessToken }, 'subscription { analyticsDashboard { pageViewsToday } }');
    const first = await sub.next(10_000);
    const before = (first.data as { analyticsDashboard: { pageViewsToday: number } }).analyticsDashboard.pageViewsToday;
    await waitFor(topics.analyticsChanged());
    await gqlOk(asApp(a), 'mutation { trackPageView(path: "/from-a") }', {}, reader.token);
    const event = await sub.until((d) => d.analyticsDashboard.pageViewsToday > before, 15_000);
    expect(event.analyticsDashboard.pageViewsToday).toBe(before + 1);
    sub.stop();
  });
});
