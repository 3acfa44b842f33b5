import { afterAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { registerUser, type TestUser } from '../helpers/users.js';
import { RawSocket } from '../helpers/raw-ws.js';
import { waitForStreams } from '../helpers/streams.js';
import { eventually } from '../helpers/connections.js';

const SEND_BUFFER_BYTES = 256 * 1024;
// Each event carries the whole post: ~50 kB a frame, so a few hundred events pass every buffer on the way.
const CONTENT = 'x'.repeat(50_000);
const EVENTS = 2000;
const POST_UPDATED = 'subscription($postId: ID!) { postUpdated(postId: $postId) { eventId post { content } } }';

describe.runIf(backendAvailable())('a client that stops reading', () => {
  const sockets: WsHandle[] = [];
  const apps: TestApp[] = [];

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await Promise.all(apps.map((a) => a.stop()));
  });

  async function setUp(env: Record<string, string>) {
    const app = await startTestApp(env);
    apps.push(app);
    const author = await registerUser(app, 'slow');
    const created = await gqlOk<{ createPost: { id: string } }>(app, 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }', { input: { title: 'Big', content: CONTENT } }, author.token);
    const postId = created.createPost.id;
    await gqlOk(app, 'mutation($id: ID!) { publishPost(id: $id) { id } }', { id: postId }, author.token);
    return { app, author, postId };
  }

  /**
   * Opens a raw socket with `subscriptions` postUpdated operations and a well-behaved client beside
   * it, stops the raw socket reading, writes until the server starts closing it, and checks that
   * it closes with 4413, that memory stayed bounded and that the other client still gets events.
   */
  async function floodUntilClosed(app: TestApp, author: TestUser, postId: string, subscriptions: number) {
    const slow = new RawSocket(app.wsUrl);
    await slow.init(bearer(author.token));
    for (let i = 0; i < subscriptions; i++) slow.send({ id: `slow-${i}`, type: 'subscribe', payload: { query: POST_UPDATED, variables: { postId } } });
    const healthy = connectWs(app, bearer(author.token));
    sockets.push(healthy);
    const reading = new Subscription(healthy.client, 'subscription($postId: ID!) { postUpdated(postId: $postId) { eventId } }', { postId });
    await waitForStreams(app, 'postUpdated', subscriptions + 1, 10_000);

    slow.pauseReading();
    const heapBefore = process.memoryUsage().heapUsed;
    const open = app.app.runtime.ws.openSockets;
    // The server side of the slow socket starts closing (its close handshake then waits for the reader).
    // Or its overflowing event queue has failed and released its events: graphql-ws is blocked on the
    // stuck send, so it sees the failure (and closes with 4413) when the client reads again.
    const slowClosing = () => app.app.runtime.ws.openSockets < open || app.app.runtime.pubsub.openStreams('postUpdated') <= 1;
    let maxBuffered = 0;
    let published = 0;
    for (; published < EVENTS && !slowClosing(); published++) {
      // A real write: durable events reach subscribers from the event log the write appended to.
      await app.app.runtime.db.post.update({ where: { id: postId }, data: { title: `Flood ${published}` } });
      // Let resolvers load the post and sends happen, as they would for events arriving from Redis.
      await new Promise((r) => setTimeout(r, 2));
      maxBuffered = Math.max(maxBuffered, app.app.runtime.ws.maxBufferedBytes);
    }
    await eventually(slowClosing, 'the slow socket to close', 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; published ${published}, max bufferedAmount ${maxBuffered}`);
    });
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

    // Bounded: the server held at most the limit plus one frame per operation, far below what was published.
    expect(maxBuffered).toBeLessThan(SEND_BUFFER_BYTES + (subscriptions + 1) * (CONTENT.length + 4096));
    // Without the bounds the server would hold every published frame (up to ~100 MB here).
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);

    slow.resumeReading();
    expect((await slow.closed).code).toBe(4413);

    await gqlOk(app, 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }', { id: postId, input: { title: `After ${published}` } }, author.token);
    await reading.until(() => true, 10_000);
    reading.stop();
    return { published, maxBuffered, heapGrowth };
  }

  it('closes a socket whose event queue overflows (capacity reached) with 4413 and counts the drop', async () => {
    const { app, author, postId } = await setUp({ WS_QUEUE_CAPACITY: '20', WS_SEND_BUFFER_BYTES: String(64 * 1024 * 1024) });
    const figures = await floodUntilClosed(app, author, postId, 1);
    console.info('queue overflow', figures);
    const metrics = await fetch(new URL('/metrics', app.httpUrl));
    if (metrics.ok) {
      const text = await metrics.text();
      expect(text).toMatch(/herald_events_dropped_total\{[^}]*reason="overflow"[^}]*\} [1-9]/);
      expect(text).toMatch(/herald_ws_closes_total\{[^}]*code="4413"[^}]*\} [1-9]/);
    }
  });

  it('closes a socket whose send buffer passes WS_SEND_BUFFER_BYTES with 4413', async () => {
    const { app, author, postId } = await setUp({ WS_SEND_BUFFER_BYTES: String(SEND_BUFFER_BYTES) });
    const figures = await floodUntilClosed(app, author, postId, 12);
    console.info('send buffer', figures);
    expect(figures.maxBuffered).toBeGreaterThan(0);
  });
});
