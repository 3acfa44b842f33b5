import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams } from '../helpers/streams.js';
import type { TopicKey } from '../../src/realtime/topics.js';

const COMMENT_FIELDS = 'eventId timestamp postId comment { id content status author { id } }';
const COMMENT_ADDED = `subscription($postId: ID!) { commentAdded(postId: $postId) { ${COMMENT_FIELDS} } }`;
const COMMENT_APPROVED = `subscription($postId: ID!) { commentApproved(postId: $postId) { ${COMMENT_FIELDS} } }`;
const ADD = 'mutation($postId: ID!, $content: String!) { addComment(postId: $postId, content: $content) { id content status postId author { id } post { id } } }';
const APPROVE = 'mutation($id: ID!) { approveComment(id: $id) { id status } }';
const REJECT = 'mutation($id: ID!) { rejectComment(id: $id) { id status } }';
const LIST = 'query($postId: ID!, $first: Int, $after: String) { comments(postId: $postId, first: $first, after: $after) { edges { cursor node { id content status } } pageInfo { hasNextPage endCursor } } }';
const COUNT = 'query($id: ID!) { post(id: $id) { commentCount } }';

interface CommentEventData {
  eventId: string;
  postId: string;
  comment: { id: string; content: string; status: string; author: { id: string } };
}
type Added = { commentAdded: CommentEventData };
type Approved = { commentApproved: CommentEventData };
type ListData = { comments: { edges: { cursor: string; node: { id: string; content: string; status: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

describe.runIf(backendAvailable())('comments', () => {
  let app: TestApp;
  let author: TestUser;
  let staff: TestUser;
  let other: TestUser;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    [author, other, staff] = await Promise.all([registerUser(app, 'author'), registerUser(app, 'other'), registerStaff(app)]);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  function socket(user: TestUser): WsHandle {
    const ws = connectWs(app, bearer(user.token));
    sockets.push(ws);
    return ws;
  }

  /** Opens one subscription per socket and waits until the server holds all of them. */
  async function subscribeAll<T>(topic: TopicKey, query: string, postId: string, users: TestUser[]): Promise<Subscription<T>[]> {
    const before = app.app.runtime.pubsub.openStreams(topic);
    const subs = users.map((u) => new Subscription<T>(socket(u).client, query, { postId }));
    await waitForStreams(app, topic, before + users.length);
    return subs;
  }

  const add = (user: TestUser, postId: string, content: string) =>
    gqlOk<{ addComment: { id: string; status: string; content: string } }>(app, ADD, { postId, content }, user.token).then((d) => d.addComment);
  const commentCount = async (postId: string) => (await gqlOk<{ post: { commentCount: number } }>(app, COUNT, { id: postId })).post.commentCount;

  it('delivers a pending comment live to the post author, staff and the commenter, never to another reader', async () => {
    const postId = await createPost(app, author);
    const commenter = await registerUser(app, 'commenter');
    const [toAuthor, toStaff, toCommenter, toOther] = await subscribeAll<Added>('commentAdded', COMMENT_ADDED, postId, [author, staff, commenter, other]);

    const pending = await add(commenter, postId, 'First!');
    expect(pending.status).toBe('PENDING');
    for (const sub of [toAuthor, toStaff, toCommenter]) {
      const event = await sub!.until((d) => d.commentAdded.comment.id === pending.id);
      expect(event.commentAdded.comment).toMatchObject({ content: 'First!', status: 'PENDING', author: { id: commenter.id } });
      expect(event.commentAdded.eventId).toMatch(/^[0-9a-f]{16}-[0-9a-f]{8}$/);
    }

    // Events of one topic arrive in order: the other reader's first event must be the approved one.
    const approved = await add(author, postId, 'Thanks for reading');
    expect(approved.status).toBe('APPROVED');
    const first = await toOther!.next();
    expect((first.data as Added).commentAdded.comment).toMatchObject({ id: approved.id, status: 'APPROVED' });
    for (const sub of [toAuthor, toStaff, toCommenter, toOther]) sub!.stop();
  });

  it('delivers an approval to every viewer of the post through commentApproved', async () => {
    const postId = await createPost(app, author);
    const commenter = await registerUser(app, 'commenter');
    const pending = await add(commenter, postId, 'Please approve me');
    const bystander = await registerUser(app, 'bystander');
    const subs = await subscribeAll<Approved>('commentApproved', COMMENT_APPROVED, postId, [other, commenter, bystander]);

    expect((await gqlOk(app, APPROVE, { id: pending.id }, author.token)).approveComment).toEqual({ id: pending.id, status: 'APPROVED' });
    for (const sub of subs) {
      const event = await sub.until((d) => d.commentApproved.comment.id === pending.id);
      expect(event.commentApproved.comment).toMatchObject({ status: 'APPROVED', content: 'Please approve me', author: { id: commenter.id } });
    }
    const list = await gqlOk<ListData>(app, LIST, { postId }, other.token);
    expect(list.comments.edges.map((e) => e.node.id)).toEqual([pending.id]);
    for (const sub of subs) sub.stop();
  });

  it('lists approved comments for everybody, plus pending ones for moderators and their own commenter, oldest first', async () => {
    const postId = await createPost(app, author);
    const commenter = await registerUser(app, 'commenter');
    const c1 = await add(commenter, postId, 'one');
    const c2 = await add(author, postId, 'two');
    const c3 = await add(other, postId, 'three');
    const ids = async (user?: TestUser) => (await gqlOk<ListData>(app, LIST, { postId }, user?.token)).comments.edges.map((e) => e.node.id);
    expect(await ids()).toEqual([c2.id]);
    expect(await ids(commenter)).toEqual([c1.id, c2.id]);
    expect(await ids(other)).toEqual([c2.id, c3.id]);
    expect(await ids(author)).toEqual([c1.id, c2.id, c3.id]);
    expect(await ids(staff)).toEqual([c1.id, c2.id, c3.id]);

    const page1 = await gqlOk<ListData>(app, LIST, { postId, first: 2 }, staff.token);
    expect(page1.comments.edges.map((e) => e.node.id)).toEqual([c1.id, c2.id]);
    expect(page1.comments.pageInfo.hasNextPage).toBe(true);
    const page2 = await gqlOk<ListData>(app, LIST, { postId, first: 2, after: page1.comments.pageInfo.endCursor }, staff.token);
    expect(page2.comments.edges.map((e) => e.node.id)).toEqual([c3.id]);
    expect(page2.comments.pageInfo.hasNextPage).toBe(false);
  });

  it('rejects: hidden from everyone, only by the post author or staff', async () => {
    const postId = await createPost(app, author);
    const commenter = await registerUser(app, 'commenter');
    const pending = await add(commenter, postId, 'spam spam spam');

    const byOther = await gql(app, REJECT, { id: pending.id }, other.token);
    expect(byOther.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const byCommenter = await gql(app, APPROVE, { id: pending.id }, commenter.token);
    expect(byCommenter.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await gql(app, REJECT, { id: pending.id });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const id of [randomUUID(), 'not-an-id']) {
      const unknown = await gql(app, APPROVE, { id }, staff.token);
      expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }

    expect((await gqlOk(app, REJECT, { id: pending.id }, staff.token)).rejectComment).toEqual({ id: pending.id, status: 'REJECTED' });
    for (const user of [author, staff, commenter]) {
      const list = await gqlOk<ListData>(app, LIST, { postId }, user.token);
      expect(list.comments.edges).toEqual([]);
    }
  });

  it('keeps commentCount exact: approved comments only, once per comment under concurrent moderation', async () => {
    const postId = await createPost(app, author);
    const commenter = await registerUser(app, 'commenter');
    const before = app.app.runtime.pubsub.openStreams('postStatsChanged');
    const stats = new Subscription<{ postStats: { commentCount: number } }>(socket(other).client, 'subscription($postId: ID!) { postStats(postId: $postId) { commentCount } }', { postId });
    await waitForStreams(app, 'postStatsChanged', before + 1);

    const a = await add(commenter, postId, 'a');
    const b = await add(commenter, postId, 'b');
    expect(await commentCount(postId)).toBe(0);

    // Ten concurrent approvals of one comment by two moderators count it once.
    const approvals = await Promise.all(Array.from({ length: 10 }, (_, i) => gql(app, APPROVE, { id: a.id }, (i % 2 ? staff : author).token)));
    expect(approvals.every((r) => !r.errors)).toBe(true);
    expect(await commentCount(postId)).toBe(1);
    await stats.until((d) => d.postStats.commentCount === 1);

    await gqlOk(app, APPROVE, { id: b.id }, author.token);
    await add(author, postId, 'auto-approved');
    expect(await commentCount(postId)).toBe(3);
    await gqlOk(app, REJECT, { id: a.id }, staff.token);
    await gqlOk(app, REJECT, { id: a.id }, staff.token);
    expect(await commentCount(postId)).toBe(2);
    await stats.until((d) => d.postStats.commentCount === 2);
    const list = await gqlOk<ListData>(app, LIST, { postId }, other.token);
    expect(list.comments.edges).toHaveLength(2);
    stats.stop();
  });

  it('answers NOT_FOUND for a missing post or a draft the viewer may not see, in mutation, query and subscriptions', async () => {
    const draftId = await createPost(app, author, { publish: false });
    for (const postId of [randomUUID(), draftId]) {
      expect((await gql(app, ADD, { postId, content: 'hello' }, other.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect((await gql(app, LIST, { postId }, other.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      for (const query of [COMMENT_ADDED, COMMENT_APPROVED]) {
        const sub = new Subscription(socket(other).client, query, { postId });
        expect(JSON.stringify(await sub.failure())).toContain('NOT_FOUND');
      }
    }
    // The draft's author may comment on it (approved at once).
    expect((await add(author, draftId, 'note to self')).status).toBe('APPROVED');
  });

  it('refuses bad content with BAD_USER_INPUT and anonymous comments with UNAUTHENTICATED', async () => {
    const postId = await createPost(app, author);
    const commenter = await registerUser(app, 'validator');
    for (const content of ['', '   \n\t ', 'x'.repeat(5001), 'nul \u0000 byte']) {
      const result = await gql(app, ADD, { postId, content }, commenter.token);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect((await add(commenter, postId, `  ${'é'.repeat(5000)}  `)).content).toBe('é'.repeat(5000));
    expect((await gql(app, ADD, { postId, content: 'hi' })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const badCursor = await gql(app, LIST, { postId, after: 'nope' });
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badFirst = await gql(app, LIST, { postId, first: 0 });
    expect(badFirst.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('stores HTML verbatim: never escaped, returned exactly as written', async () => {
    const postId = await createPost(app, author);
    const html = `<script>alert("x")</script> &amp; <b onclick='y()'>bold</b> \u{1F600}`;
    const created = await add(author, postId, html);
    expect(created.content).toBe(html);
    const list = await gqlOk<ListData>(app, LIST, { postId });
    expect(list.comments.edges.map((e) => e.node.content)).toEqual([html]);
  });

  it('rate limits addComment per user', async () => {
    const postId = await createPost(app, author);
    const chatty = await registerUser(app, 'chatty');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => gql(app, ADD, { postId, content: `c${i}` }, chatty.token)));
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK');
    expect(codes.filter((c) => c === 'OK')).toHaveLength(10);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(2);
  });
});
