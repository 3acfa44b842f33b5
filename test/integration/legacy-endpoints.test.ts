import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backend, isCi } from '../helpers/backends.js';
import { createTestBackend, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, type WsHandle } from '../helpers/clients.js';
import { acknowledged, eventually, within } from '../helpers/connections.js';
import { signAccessToken } from '../../src/modules/auth/tokens.js';
import { RawSocket } from '../helpers/raw-ws.js';
import { waitForStreams } from '../helpers/streams.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples/old-clients');
/** Debian's Python (the `python3` first on PATH may be another build without Debian's packages). */
const PYTHON = '/usr/bin/python3';
const pythonWebsockets = spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0;
if (!pythonWebsockets && isCi() && backend === 'embedded') throw new Error(`CI=true but ${PYTHON} cannot import websockets (.ci/run installs it: apt-get install -y python3-websockets)`);

/** A guide example as a user runs it: the token and the host filled in where the example says so. */
async function filledIn(file: string, app: TestApp, token: string): Promise<string> {
  const text = await readFile(join(EXAMPLES, file), 'utf8');
  if (!text.includes('your-jwt-token') || !text.includes('localhost:8000')) throw new Error(`${file} has no token or host to fill in`);
  return text.replaceAll('your-jwt-token', token).replaceAll('localhost:8000', `127.0.0.1:${app.port}`);
}

/** A child process's output, and a bounded wait for text in it. */
class Output {
  text = '';
  private readonly listeners: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    const take = (chunk: Buffer) => {
      this.text += chunk.toString();
      for (const listener of this.listeners.splice(0)) listener();
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  }

  async waitFor(needle: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.text.includes(needle)) {
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) throw new Error(`no "${needle}" in the client's output:\n${this.text}`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, Math.min(left, 200));
        this.listeners.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
  }
}

/** A client of the old endpoints: a plain WebSocket (no subprotocol) on `/ws/...?token=`. */
function oldSocket(app: TestApp, path: string, token?: string): RawSocket {
  const url = new URL(path, `http://127.0.0.1:${app.port}`);
  url.protocol = 'ws:';
  if (token !== undefined) url.searchParams.set('token', token);
  return new RawSocket(url.toString(), []);
}

const ofType = (type: string) => (frame: Record<string, unknown>) => frame.type === type;
const data = (frame: Record<string, unknown>) => frame.data as Record<string, any>;

/** The HTTP status of an upgrade to `path` (101 when accepted). */
function upgradeStatusOf(app: TestApp, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${app.port}${path}`);
    socket.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('open', () => {
      resolve(101);
      socket.close();
    });
    socket.on('error', reject);
  });
}

// Transport only: the operations behind each message are tested on both backends by their own files.
describe.runIf(backend === 'embedded')("the old system's /ws/... endpoints", () => {
  let app: TestApp;
  let author: TestUser;
  let reader: TestUser;
  let other: TestUser;
  let staff: TestUser;
  let postId: string;
  let stopped = false;
  const sockets: RawSocket[] = [];
  const graphqlWs: WsHandle[] = [];
  const open = (path: string, token?: string) => {
    const socket = oldSocket(app, path, token);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    app = await startTestApp({ WS_HEARTBEAT_INTERVAL: '1s', WS_MAX_CONNECTIONS_PER_USER: '3', ANALYTICS_MIN_INTERVAL: '50ms' });
    [author, reader, other, staff] = await Promise.all([registerUser(app, 'old_author'), registerUser(app, 'old_reader'), registerUser(app, 'old_other'), registerStaff(app)]);
    await gqlOk(app, 'mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { id } }', { id: author.id, role: 'AUTHOR' }, staff.token);
    author = { ...author, ...(await login(author)) };
    postId = await createPost(app, author, { title: 'Old clients' });
  }, 60_000);

  // Each test's sockets close after it, so users stay under the per-user cap (3 here) test after test.
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    if (!stopped) await eventually(() => app.app.runtime.services.connections.size === graphqlWs.length, 'old sockets closed');
  });

  afterAll(async () => {
    await Promise.all(graphqlWs.map((ws) => ws.client.dispose()));
    await app?.stop();
  });

  async function login(user: TestUser): Promise<{ token: string }> {
    const result = await gqlOk<{ login: { accessToken: string } }>(app, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', { e: user.email, p: user.password });
    return { token: result.login.accessToken };
  }

  describe('/ws/notifications/', () => {
    it('welcomes, subscribes by old type names, delivers a notification in the old shape, answers ping and unsubscribes', async () => {
      const socket = open('/ws/notifications/', reader.token);
      const welcome = await socket.waitFor(ofType('welcome'));
      expect(data(welcome)).toEqual({ message: 'Connected to notifications', user: reader.username });
      await waitForStreams(app, 'broadcastNotificationCreated', 1);

      socket.send({ type: 'subscribe', notification_types: ['blog_post_published', 'comment_added'] });
      expect(data(await socket.waitFor(ofType('subscribed')))).toEqual({ notification_types: ['blog_post_published', 'comment_added'] });
      await waitForStreams(app, 'broadcastNotificationCreated', 1);

      const published = await createPost(app, author, { title: 'Fresh news' });
      const notification = await socket.waitFor(ofType('notification'));
      expect(notification).toMatchObject({
        type: 'notification',
        data: { notification_type: 'blog_post_published', title: expect.any(String), message: expect.stringContaining('Fresh news'), icon: expect.any(String), color: expect.any(String), data: { post_id: published } },
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });

      socket.send({ type: 'ping' });
      expect(await socket.waitFor(ofType('pong'))).toMatchObject({ timestamp: expect.any(String) });

      socket.send({ type: 'unsubscribe', notification_types: ['blog_post_published'] });
      expect(data(await socket.waitFor(ofType('unsubscribed')))).toEqual({ notification_types: ['blog_post_published'] });
    });

    it('answers an unknown old type name with an error and subscribes the known ones', async () => {
      const socket = open('/ws/notifications/', other.token);
      await socket.waitFor(ofType('welcome'));
      socket.send({ type: 'subscribe', notification_types: ['user_mentioned', 'post_liked'] });
      expect(await socket.waitFor(ofType('error'))).toMatchObject({ message: expect.stringContaining('user_mentioned'), code: 'BAD_USER_INPUT' });
      expect(data(await socket.waitFor(ofType('subscribed')))).toEqual({ notification_types: ['post_liked'] });
    });

    it('refuses a socket without a token (4001) and one with a bad token (4403)', async () => {
      const anonymous = open('/ws/notifications/');
      expect(await anonymous.waitFor(ofType('error'))).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect((await anonymous.closed).code).toBe(4001);
      const forged = open('/ws/notifications/', 'not-a-token');
      expect((await forged.closed).code).toBe(4403);
      expect(forged.frames).toEqual([]);
    });
  });

  describe('/ws/blog/posts/{post_id}/', () => {
    it('sends post_data, answers get_stats and track_view with post_stats, and pushes post_stats and post_update after subscribe_updates', async () => {
      const socket = open(`/ws/blog/posts/${postId}/`, reader.token);
      expect(data(await socket.waitFor(ofType('post_data')))).toMatchObject({ id: postId, title: 'Old clients', author: author.username, view_count: 0, comment_count: 0, like_count: 0 });

      socket.send({ type: 'get_stats' });
      expect(data(await socket.waitFor(ofType('post_stats')))).toEqual({ post_id: postId, view_count: 0, comment_count: 0, like_count: 0 });

      socket.send({ type: 'track_view' });
      expect(data(await socket.waitFor((f) => f.type === 'post_stats' && data(f).view_count === 1))).toMatchObject({ view_count: 1 });

      socket.send({ type: 'subscribe_updates' });
      expect(data(await socket.waitFor(ofType('subscribed')))).toEqual({ post_id: postId });
      await Promise.all([waitForStreams(app, 'postStatsChanged', 1), waitForStreams(app, 'postUpdated', 1)]);

      await gqlOk(app, 'mutation($id: ID!) { likePost(postId: $id) { likeCount } }', { id: postId }, other.token);
      expect(data(await socket.waitFor((f) => f.type === 'post_stats' && data(f).like_count === 1))).toMatchObject({ view_count: 1, like_count: 1 });

      await gqlOk(app, 'mutation($id: ID!) { updatePost(id: $id, input: { title: "Old clients, renamed" }) { id } }', { id: postId }, author.token);
      expect(data(await socket.waitFor(ofType('post_update')))).toMatchObject({ post_id: postId, change: 'updated', title: 'Old clients, renamed' });
    });

    it("closes with 4004 for a post that does not exist or that the viewer may not see (another author's draft, its comments too)", async () => {
      const missing = open('/ws/blog/posts/no-such-post/', reader.token);
      expect(await missing.waitFor(ofType('error'))).toMatchObject({ message: 'Post not found', code: 'NOT_FOUND' });
      expect((await missing.closed).code).toBe(4004);
      const draft = await createPost(app, author, { publish: false });
      const hidden = open(`/ws/blog/posts/${draft}/`, reader.token);
      expect((await hidden.closed).code).toBe(4004);
      const hiddenComments = open(`/ws/blog/comments/${draft}/`, reader.token);
      expect(await hiddenComments.waitFor(ofType('error'))).toMatchObject({ code: 'NOT_FOUND' });
      expect((await hiddenComments.closed).code).toBe(4004);
    });
  });

  describe('/ws/blog/comments/{post_id}/', () => {
    it('sends comments_data, user_typing to the others, comment_added and comment_approved, and answers get_comments', async () => {
      await gqlOk(app, 'mutation($id: ID!) { addComment(postId: $id, content: "First!") { id } }', { id: postId }, author.token);
      const readerSocket = open(`/ws/blog/comments/${postId}/`, reader.token);
      const authorSocket = open(`/ws/blog/comments/${postId}/`, author.token);
      const initial = data(await readerSocket.waitFor(ofType('comments_data')));
      expect(initial).toMatchObject({ post_id: postId, comment_count: 1, comments: [{ content: 'First!', author: author.username, is_approved: true, created_at: expect.any(String) }] });
      await authorSocket.waitFor(ofType('comments_data'));
      await Promise.all([waitForStreams(app, 'typingChanged', 2), waitForStreams(app, 'commentAdded', 2), waitForStreams(app, 'commentApproved', 2)]);

      readerSocket.send({ type: 'typing_start' });
      const typing = await authorSocket.waitFor(ofType('user_typing'));
      expect(data(typing)).toEqual({ user: reader.username, is_typing: true, typing_users: [reader.username] });
      readerSocket.send({ type: 'typing_stop' });
      expect(data(await authorSocket.waitFor((f) => f.type === 'user_typing' && data(f).is_typing === false))).toEqual({ user: reader.username, is_typing: false, typing_users: [] });
      expect(readerSocket.frames.filter(ofType('user_typing'))).toEqual([]);

      // The reader's comment is pending: its author and the post's author see it, as the API decides.
      const added = await gqlOk<{ addComment: { id: string } }>(app, 'mutation($id: ID!) { addComment(postId: $id, content: "Nice post") { id } }', { id: postId }, reader.token);
      expect(data(await authorSocket.waitFor(ofType('comment_added')))).toMatchObject({ id: added.addComment.id, post_id: postId, content: 'Nice post', author: reader.username, is_approved: false });
      await gqlOk(app, 'mutation($id: ID!) { approveComment(id: $id) { id } }', { id: added.addComment.id }, author.token);
      expect(data(await readerSocket.waitFor(ofType('comment_approved')))).toMatchObject({ id: added.addComment.id, content: 'Nice post', is_approved: true });

      readerSocket.send({ type: 'get_comments' });
      await readerSocket.waitFor((f) => f.type === 'comments_data' && data(f).comment_count === 2);
      expect(data(readerSocket.frames.filter(ofType('comments_data'))[1] as Record<string, unknown>).comments.map((c: { content: string }) => c.content)).toEqual(['Nice post', 'First!']);
    });
  });

  describe('/ws/analytics/dashboard/', () => {
    it('sends staff dashboard_data, analytics_update on change, and dashboard_data on refresh_dashboard', async () => {
      const socket = open('/ws/analytics/dashboard/', staff.token);
      const first = data(await socket.waitFor(ofType('dashboard_data')));
      expect(first).toMatchObject({ total_views: expect.any(Number), active_visitors: expect.any(Number), active_connections: expect.any(Number), top_paths: expect.any(Array), top_posts: expect.any(Array) });
      await gqlOk(app, 'mutation { trackPageView(path: "/old-dashboard") }', {}, reader.token);
      const update = await socket.waitFor((f) => f.type === 'analytics_update' && (data(f).top_paths as { path: string }[]).some((p) => p.path === '/old-dashboard'));
      expect(data(update).total_views).toBeGreaterThan(first.total_views as number);
      socket.send({ type: 'refresh_dashboard' });
      await socket.waitFor((f) => f.type === 'dashboard_data' && f !== socket.frames.find(ofType('dashboard_data')));
    });

    it('refuses anyone but staff, as the analyticsDashboard subscription does (FORBIDDEN, closed with 4003)', async () => {
      const socket = open('/ws/analytics/dashboard/', reader.token);
      expect(await socket.waitFor(ofType('error'))).toMatchObject({ code: 'FORBIDDEN' });
      expect((await socket.closed).code).toBe(4003);
      expect(socket.frames.filter(ofType('dashboard_data'))).toEqual([]);
    });
  });

  describe('/ws/health/', () => {
    it('needs no token: health_status on connect, health_response to health_check', async () => {
      const socket = open('/ws/health/');
      expect(await socket.waitFor(ofType('health_status'))).toMatchObject({ status: 'healthy', timestamp: expect.any(String), server_time: expect.any(String), data: { database: 'up' } });
      socket.send({ type: 'health_check' });
      expect(await socket.waitFor(ofType('health_response'))).toMatchObject({ status: 'healthy', uptime: { seconds: expect.any(Number) } });
    });
  });

  it('sends a heartbeat every WS_HEARTBEAT_INTERVAL', async () => {
    const socket = open('/ws/health/');
    await socket.waitFor(ofType('health_status'));
    const heartbeat = await socket.waitFor(ofType('heartbeat'), 4000);
    expect(heartbeat).toEqual({ type: 'heartbeat', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('answers bad messages with an error and stays usable', async () => {
    const socket = open('/ws/notifications/', other.token);
    await socket.waitFor(ofType('welcome'));
    const errors = () => socket.frames.filter(ofType('error')).map((f) => f.message);
    socket.send('not json');
    socket.send('[1, 2]');
    socket.send({ notification_types: [] });
    socket.send({ type: 'typing_start' });
    socket.send({ type: 'subscribe' });
    socket.send({ type: 'ping' });
    await socket.waitFor(ofType('pong'));
    expect(errors()).toEqual([
      'Invalid JSON format',
      'Invalid message: expected a JSON object',
      'Invalid message: missing field "type"',
      'Unknown message type: typing_start',
      'Invalid message: "subscribe" needs "notification_types", a non-empty list of notification types',
    ]);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 4008 over the per-user cap, counting graphql-ws sockets too', async () => {
    const user = await registerUser(app, 'old_capped');
    const ws = connectWs(app, bearer(user.token));
    graphqlWs.push(ws);
    await acknowledged(ws);
    const first = open('/ws/health/', user.token);
    const second = open('/ws/notifications/', user.token);
    const third = open(`/ws/blog/posts/${postId}/`, user.token);
    await Promise.all([first.waitFor(ofType('health_status')), second.waitFor(ofType('welcome')), third.waitFor(ofType('post_data'))]);
    // The health endpoint does not read the token, so only the second and third hold the user's slots.
    const fourth = open('/ws/notifications/', user.token);
    expect((await fourth.closed).code).toBe(4008);
  });

  it('closes with 4403 when the access token expires on a live socket', async () => {
    const { jwt } = app.app.config;
    const short = signAccessToken({ secret: jwt.secret, issuer: jwt.issuer, audience: jwt.audience, accessTtlMs: 1500 }, { userId: other.id, role: 'READER', sessionId: randomUUID() });
    const socket = open('/ws/notifications/', short.token);
    await socket.waitFor(ofType('welcome'));
    expect(await within(socket.closed, 5000, 'close on expiry')).toMatchObject({ code: 4403 });
  });

  it('answers other /ws/ paths with 404', async () => {
    expect(await upgradeStatusOf(app, '/ws/chat/')).toBe(404);
    expect(await upgradeStatusOf(app, '/ws/health/')).toBe(101);
  });

  describe("the old guide's clients", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'herald-old-clients-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    /** Runs a client until `until` resolves; the clients run until killed, as the guide's do. */
    async function runClient(command: string, args: string[], until: (output: Output) => Promise<void>): Promise<string> {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
      const output = new Output(child);
      try {
        await until(output);
        return output.text;
      } finally {
        child.kill('SIGTERM');
      }
    }

    /** Once the client printed its `subscribed`, its narrowed subscription is live: a post published then reaches it. */
    async function publishWhenSubscribed(output: Output, streamsBefore: number, subscribed: string): Promise<string> {
      await output.waitFor(subscribed);
      await waitForStreams(app, 'broadcastNotificationCreated', streamsBefore + 1);
      return createPost(app, author, { title: 'For the old clients' });
    }

    it('runs the JavaScript client as written (ws as WebSocket): it connects, subscribes and shows the notification', async () => {
      const reader2 = await registerUser(app, 'old_js');
      const file = join(dir, 'notifications.cjs');
      // What a browser page provides: WebSocket (here the `ws` package) and the page's showNotification.
      const page = `globalThis.WebSocket = require(${JSON.stringify(createRequire(import.meta.url).resolve('ws'))});\nglobalThis.showNotification = (n) => console.log('showNotification ' + JSON.stringify(n));\n`;
      await writeFile(file, page + (await filledIn('notifications.js', app, reader2.token)));
      const before = app.app.runtime.pubsub.openStreams('broadcastNotificationCreated');
      let published = '';
      const text = await runClient(process.execPath, [file], async (output) => {
        published = await publishWhenSubscribed(output, before, "type: 'subscribed'");
        await output.waitFor('showNotification ');
      });
      expect(text.split('\n')[0]).toBe('Connected to notifications');
      expect(text).toContain("Notification: {\n  type: 'welcome',");
      expect(text).toMatch(/Notification: \{\n  type: 'notification',\n  data: \{\n    id: '[^']+',\n    notification_type: 'blog_post_published',/);
      const shown = JSON.parse(/showNotification (.*)/.exec(text)?.[1] ?? 'null') as Record<string, unknown>;
      expect(shown).toMatchObject({ notification_type: 'blog_post_published', title: expect.any(String), message: expect.stringContaining('For the old clients'), icon: expect.any(String), color: expect.any(String), data: { post_id: published } });
    });

    it.runIf(pythonWebsockets)('runs the Python client as written (Debian python3-websockets): it subscribes and prints the notification', async () => {
      const reader3 = await registerUser(app, 'old_py');
      const file = join(dir, 'notifications.py');
      await writeFile(file, await filledIn('notifications.py', app, reader3.token));
      const before = app.app.runtime.pubsub.openStreams('broadcastNotificationCreated');
      const text = await runClient(PYTHON, [file], async (output) => {
        await publishWhenSubscribed(output, before, "Received: {'type': 'subscribed'");
        await output.waitFor("Received: {'type': 'notification'");
      });
      const lines = text.split('\n').filter((line) => line.length > 0);
      expect(lines[0]).toBe(`Received: {'type': 'welcome', 'data': {'message': 'Connected to notifications', 'user': '${reader3.username}'}, 'timestamp': '${/'timestamp': '([^']+)'/.exec(lines[0] ?? '')?.[1]}'}`);
      expect(lines[1]).toMatch(/^Received: \{'type': 'subscribed', 'data': \{'notification_types': \['blog_post_published'\]\}, 'timestamp': '[^']+'\}$/);
      expect(lines[2]).toMatch(/^Received: \{'type': 'notification', 'data': \{'id': '[^']+', 'notification_type': 'blog_post_published', 'title': '[^']+', 'message': '[^']*For the old clients[^']*', 'icon': '[^']+', 'color': '[^']+', 'data': \{'post_id': '[^']+'/);
    });

    if (!pythonWebsockets) it.skip(`the Python client is skipped: ${PYTHON} cannot import websockets (apt-get install python3-websockets)`, () => undefined);
  });

  it('answers every old path with 404 when WS_LEGACY_ENDPOINTS=false', async () => {
    const shared = await createTestBackend();
    const off = await startTestApp({ WS_LEGACY_ENDPOINTS: 'false' }, shared);
    try {
      for (const path of ['/ws/notifications/', `/ws/blog/posts/${postId}/`, `/ws/blog/comments/${postId}/`, '/ws/analytics/dashboard/', '/ws/health/']) {
        expect(await upgradeStatusOf(off, path), path).toBe(404);
      }
    } finally {
      await off.stop();
      await shared.dispose();
    }
  }, 30_000);

  // Last: it stops the file's server.
  it('closes every old socket with 1001 when the server shuts down', async () => {
    const socket = open('/ws/health/');
    await socket.waitFor(ofType('health_status'));
    stopped = true;
    await app.stop();
    expect((await socket.closed).code).toBe(1001);
  });
});
