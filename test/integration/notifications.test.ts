import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';

const SUBSCRIBE = `subscription($types: [NotificationType!]) {
  notifications(types: $types) { id notificationType type title message icon color data read readAt createdAt eventId timestamp isBroadcast }
}`;
const LIST = `query($unreadOnly: Boolean, $types: [NotificationType!], $first: Int, $after: String) {
  notifications(unreadOnly: $unreadOnly, types: $types, first: $first, after: $after) {
    edges { cursor node { id notificationType read data } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const UNREAD = `query { unreadNotificationCount }`;
const MARK_ONE = `mutation($id: ID!) { markNotificationRead(id: $id) { id read readAt } }`;
const MARK_ALL = `mutation { markAllNotificationsRead }`;
const SEND_SYSTEM = `mutation($input: SystemNotificationInput!) { sendSystemNotification(input: $input) }`;
const LIKE = `mutation($postId: ID!) { likePost(postId: $postId) { likeCount } }`;

interface Live {
  notifications: { id: string; notificationType: string; type: string; title: string; data: Record<string, unknown>; read: boolean; eventId: string; timestamp: string; isBroadcast: boolean };
}
interface ListResult {
  notifications: { edges: { cursor: string; node: { id: string; notificationType: string; read: boolean; data: Record<string, unknown> } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

describe.runIf(backendAvailable())('notifications', () => {
  let app: TestApp;
  let author: TestUser;
  let reader: TestUser;
  let other: TestUser;
  let staff: TestUser;
  const sockets: WsHandle[] = [];

  // Anonymous sockets are admitted so the subscription's own UNAUTHENTICATED check is what answers.
  beforeAll(async () => {
    app = await startTestApp({ WS_JWT_AUTH_REQUIRED: 'false' });
    author = await registerUser(app, 'author');
    reader = await registerUser(app, 'reader');
    other = await registerUser(app, 'other');
    staff = await registerStaff(app);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  function socket(user: TestUser | null): WsHandle {
    const ws = connectWs(app, user ? bearer(user.token) : {});
    sockets.push(ws);
    return ws;
  }

  /** Starts subscriptions and waits (bounded) until the server listens for each of them. */
  async function subscribe(entries: { ws: WsHandle; types?: string[] }[]): Promise<Subscription<Live>[]> {
    const pubsub = app.app.runtime.pubsub;
    const before = pubsub.openStreams('broadcastNotificationCreated');
    const subs = entries.map((e) => new Subscription<Live>(e.ws.client, SUBSCRIBE, e.types ? { types: e.types } : {}));
    const deadline = Date.now() + 5000;
    while (pubsub.openStreams('broadcastNotificationCreated') < before + entries.length) {
      if (Date.now() > deadline) throw new Error('subscriptions did not start');
      await new Promise((r) => setTimeout(r, 10));
    }
    return subs;
  }

  const like = (postId: string, user: TestUser) => gqlOk(app, LIKE, { postId }, user.token);
  const list = (user: TestUser, vars: Record<string, unknown> = {}) => gqlOk<ListResult>(app, LIST, vars, user.token);
  const unread = async (user: TestUser) => (await gqlOk<{ unreadNotificationCount: number }>(app, UNREAD, {}, user.token)).unreadNotificationCount;

  it('delivers a POST_LIKED to the post author live, with an event id, and stores it', async () => {
    const postId = await createPost(app, author);
    const [sub] = await subscribe([{ ws: socket(author) }]);
    await like(postId, reader);
    const event = (await sub!.until((d) => d.notifications.notificationType === 'POST_LIKED')).notifications;
    expect(event).toMatchObject({ type: 'POST_LIKED', read: false, isBroadcast: false, data: { postId, likerId: reader.id } });
    expect(event.title.length).toBeGreaterThan(0);
    expect(event.eventId).toMatch(/^[0-9a-f]{16}-[0-9a-f]{8}$/);
    const stored = await list(author, { types: ['POST_LIKED'] });
    expect(stored.notifications.edges.map((e) => e.node.id)).toContain(event.id);
    sub!.stop();
  });

  it('does not notify a user who likes their own post', async () => {
    const own = await createPost(app, reader);
    const theirs = await createPost(app, reader);
    const [sub] = await subscribe([{ ws: socket(reader) }]);
    await like(own, reader);
    await like(theirs, other); // sentinel: the first event must be this one
    const first = await sub!.next();
    expect(first.data?.notifications.data).toMatchObject({ postId: theirs, likerId: other.id });
    sub!.stop();
  });

  it("never delivers another user's notification, whatever the arguments", async () => {
    const authorPost = await createPost(app, author);
    const otherPost = await createPost(app, other);
    const ws = socket(reader);
    const variants = [undefined, ['POST_LIKED'], ['POST_LIKED', 'COMMENT_ADDED', 'COMMENT_APPROVED', 'BLOG_POST_PUBLISHED', 'SYSTEM_ALERT']];
    const subs = await subscribe(variants.map((types) => ({ ws, types })));
    await like(authorPost, reader); // notifies author, not reader
    await like(otherPost, reader); // notifies other, not reader
    const readerPost = await createPost(app, reader);
    // Publishing it broadcasts BLOG_POST_PUBLISHED, which skips the reader: they are its author.
    await like(readerPost, author); // the reader's own: the first event every subscription gets
    for (const sub of subs) {
      const first = await sub.next();
      expect(first.data?.notifications.data).toMatchObject({ postId: readerPost, likerId: author.id });
      sub.stop();
    }
    const authorsIds = (await list(author)).notifications.edges.map((e) => e.node.id);
    const readersIds = new Set((await list(reader, { first: 100 })).notifications.edges.map((e) => e.node.id));
    const ownOfAuthor = (await list(author, { types: ['POST_LIKED'] })).notifications.edges.map((e) => e.node.id);
    expect(ownOfAuthor.length).toBeGreaterThan(0);
    for (const id of ownOfAuthor) expect(readersIds.has(id)).toBe(false);
    expect(authorsIds.length).toBeGreaterThan(0);
  });

  it("answers NOT_FOUND for someone else's notification id, and marks one's own read", async () => {
    const postId = await createPost(app, author);
    await like(postId, other);
    const authors = await list(author, { types: ['POST_LIKED'], first: 1 });
    const id = authors.notifications.edges[0]!.node.id;
    const foreign = await gql(app, MARK_ONE, { id }, reader.token);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const missing = await gql(app, MARK_ONE, { id: 'not-an-id' }, reader.token);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const marked = await gqlOk<{ markNotificationRead: { id: string; read: boolean; readAt: string } }>(app, MARK_ONE, { id }, author.token);
    expect(marked.markNotificationRead).toMatchObject({ id, read: true });
    const again = await gqlOk<{ markNotificationRead: { readAt: string } }>(app, MARK_ONE, { id }, author.token);
    expect(again.markNotificationRead.readAt).toBe(marked.markNotificationRead.readAt);
  });

  it('filters by type, with two subscriptions of different types on one socket working independently', async () => {
    const postId = await createPost(app, author);
    const ws = socket(author);
    const [likes, posts] = await subscribe([
      { ws, types: ['POST_LIKED'] },
      { ws, types: ['BLOG_POST_PUBLISHED', 'SYSTEM_ALERT'] },
    ]);
    await like(postId, reader);
    const publishedId = await createPost(app, other); // BLOG_POST_PUBLISHED to the author
    await like(postId, other);
    const firstLike = await likes!.next();
    expect(firstLike.data?.notifications.data).toMatchObject({ likerId: reader.id });
    const secondLike = await likes!.next();
    expect(secondLike.data?.notifications.data).toMatchObject({ likerId: other.id }); // the publish never reached it
    const firstPost = await posts!.next();
    expect(firstPost.data?.notifications).toMatchObject({ type: 'BLOG_POST_PUBLISHED', isBroadcast: true, data: { postId: publishedId } });
    // Completing one leaves the other running.
    likes!.stop();
    const sent = await gqlOk<{ sendSystemNotification: number }>(app, SEND_SYSTEM, { input: { title: 'Heads up', message: 'Still here' } }, staff.token);
    expect(sent.sendSystemNotification).toBeGreaterThan(0);
    const alert = await posts!.next();
    expect(alert.data?.notifications).toMatchObject({ type: 'SYSTEM_ALERT', title: 'Heads up' });
    posts!.stop();
  });

  it('broadcasts publishPost to every other user (one stored row), and read state is per user', async () => {
    const r1 = await registerUser(app, 'r1');
    const r2 = await registerUser(app, 'r2');
    const writer = await registerUser(app, 'writer');
    const [s1, s2, sw] = await subscribe([{ ws: socket(r1) }, { ws: socket(r2) }, { ws: socket(writer) }]);
    const postId = await createPost(app, writer, { title: 'Big news' });
    for (const sub of [s1!, s2!]) {
      const event = (await sub.until((d) => d.notifications.notificationType === 'BLOG_POST_PUBLISHED')).notifications;
      expect(event).toMatchObject({ isBroadcast: true, read: false, data: { postId, authorId: writer.id } });
    }
    // The writer's first event is a later like, not their own publication.
    await like(postId, r1);
    expect((await sw!.next()).data?.notifications).toMatchObject({ type: 'POST_LIKED', data: { postId } });

    const rows = await app.app.runtime.db.notification.findMany({ where: { type: 'BLOG_POST_PUBLISHED', actorId: writer.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ audience: 'ALL', recipientId: null });

    for (const user of [r1, r2]) {
      const seen = await list(user, { types: ['BLOG_POST_PUBLISHED'] });
      expect(seen.notifications.edges.map((e) => e.node.data.postId)).toContain(postId);
      expect(await unread(user)).toBeGreaterThan(0);
    }
    expect((await list(writer)).notifications.edges.map((e) => e.node.notificationType)).not.toContain('BLOG_POST_PUBLISHED');

    const r2Before = await unread(r2);
    const r1Before = await unread(r1);
    const marked = await gqlOk<{ markAllNotificationsRead: number }>(app, MARK_ALL, {}, r1.token);
    expect(marked.markAllNotificationsRead).toBe(r1Before);
    expect(await unread(r1)).toBe(0);
    expect((await list(r1, { unreadOnly: true })).notifications.edges).toHaveLength(0);
    expect(await unread(r2)).toBe(r2Before);
    const r2Unread = await list(r2, { unreadOnly: true, types: ['BLOG_POST_PUBLISHED'] });
    expect(r2Unread.notifications.edges.map((e) => e.node.data.postId)).toContain(postId);

    // One broadcast read by one user stays unread for the others.
    const broadcastId = rows[0]!.id;
    await gqlOk(app, MARK_ONE, { id: broadcastId }, r2.token);
    expect(await unread(r2)).toBe(r2Before - 1);
    const r1Again = await gqlOk<{ markNotificationRead: { read: boolean } }>(app, MARK_ONE, { id: broadcastId }, r1.token);
    expect(r1Again.markNotificationRead.read).toBe(true);
    // The writer cannot see (or mark) their own publication; a later user never had it.
    expect((await gql(app, MARK_ONE, { id: broadcastId }, writer.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const late = await registerUser(app, 'late');
    expect(await unread(late)).toBe(0);
    expect((await gql(app, MARK_ONE, { id: broadcastId }, late.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    for (const sub of [s1!, s2!, sw!]) sub.stop();
  });

  it('lets staff, and only staff, send a SYSTEM_ALERT to everyone', async () => {
    const denied = await gql(app, SEND_SYSTEM, { input: { title: 'Nope', message: 'Nope' } }, reader.token);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await gql(app, SEND_SYSTEM, { input: { title: 'Nope', message: 'Nope' } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const tooLong = await gql(app, SEND_SYSTEM, { input: { title: 'x'.repeat(201), message: 'm' } }, staff.token);
    expect(tooLong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const longMessage = await gql(app, SEND_SYSTEM, { input: { title: 't', message: 'm'.repeat(2001) } }, staff.token);
    expect(longMessage.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const subs = await subscribe([{ ws: socket(reader) }, { ws: socket(author) }, { ws: socket(staff) }]);
    const input = { title: 'Maintenance', message: 'Down at 02:00 UTC', icon: 'build', color: '#f59e0b', data: { window: '02:00-02:30' } };
    const result = await gqlOk<{ sendSystemNotification: number }>(app, SEND_SYSTEM, { input }, staff.token);
    expect(result.sendSystemNotification).toBe(await app.app.runtime.db.user.count());
    for (const sub of subs) {
      const event = (await sub.until((d) => d.notifications.notificationType === 'SYSTEM_ALERT' && d.notifications.title === 'Maintenance')).notifications;
      expect(event).toMatchObject({ message: 'Down at 02:00 UTC', icon: 'build', color: '#f59e0b', data: { window: '02:00-02:30' } });
      sub.stop();
    }
  });

  it('pages newest first with after, merging own notifications and broadcasts', async () => {
    const user = await registerUser(app, 'pager');
    const p1 = await createPost(app, user);
    await like(p1, author);
    await gqlOk(app, SEND_SYSTEM, { input: { title: 'one', message: 'm' } }, staff.token);
    await like(p1, reader);
    await gqlOk(app, SEND_SYSTEM, { input: { title: 'two', message: 'm' } }, staff.token);
    await like(p1, other);
    const all = (await list(user, { first: 100 })).notifications.edges.map((e) => e.node.id);
    expect(all).toHaveLength(5);
    const paged: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: ListResult = await list(user, { first: 2, after });
      paged.push(...page.notifications.edges.map((e) => e.node.id));
      after = page.notifications.pageInfo.hasNextPage ? page.notifications.pageInfo.endCursor : null;
      pages += 1;
    } while (after && pages < 10);
    expect(pages).toBe(3);
    expect(paged).toEqual(all);
    const types = (await list(user, { first: 100 })).notifications.edges.map((e) => e.node.notificationType);
    expect(types).toEqual(['POST_LIKED', 'SYSTEM_ALERT', 'POST_LIKED', 'SYSTEM_ALERT', 'POST_LIKED']);
    const bad = await gql(app, LIST, { after: 'garbage' }, user.token);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await gql(app, LIST, { first: 1000 }, user.token);
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses anonymous viewers: UNAUTHENTICATED at subscribe and on the queries', async () => {
    const sub = new Subscription(socket(null).client, SUBSCRIBE);
    expect(JSON.stringify(await sub.failure())).toContain('UNAUTHENTICATED');
    const query = await gql(app, UNREAD);
    expect(query.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects an empty type list with BAD_USER_INPUT', async () => {
    const sub = new Subscription(socket(reader).client, SUBSCRIBE, { types: [] });
    expect(JSON.stringify(await sub.failure())).toContain('BAD_USER_INPUT');
  });
});
