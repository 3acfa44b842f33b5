import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams, waitForStreamsClosed } from '../helpers/streams.js';
import { PendingResult } from '../../src/graphql/delivery/pending-result.js';

// Subscription events are executed once per shape (document, variables, viewer scope) and shared; these
// tests check that sharing never leaks one viewer's result to another and that subscribers stay independent.

const POST_UPDATED = `subscription($postId: ID!) { postUpdated(postId: $postId) { eventId change post { id title } } }`;
const POST_UPDATED_PERSONAL = `subscription($postId: ID!) { postUpdated(postId: $postId) { eventId post { title likedByMe author { id email } } } }`;
const POST_UPDATED_LIKED = `subscription($postId: ID!) { postUpdated(postId: $postId) { eventId post { title likedByMe } } }`;
const COMMENT_ADDED = `subscription($postId: ID!) { commentAdded(postId: $postId) { eventId comment { id content status } } }`;
const UPDATE_POST = 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }';

describe.runIf(backendAvailable())('shared subscription execution', () => {
  let app: TestApp;
  let author: TestUser;
  let staff: TestUser;
  const readers: TestUser[] = [];
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    author = await registerUser(app, 'shareauthor');
    staff = await registerStaff(app);
    for (let i = 0; i < 3; i++) readers.push(await registerUser(app, `sharereader${i}`));
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  function socketFor(user: TestUser): WsHandle {
    const ws = connectWs(app, bearer(user.token));
    sockets.push(ws);
    return ws;
  }

  async function rename(postId: string, title: string): Promise<void> {
    await gqlOk(app, UPDATE_POST, { id: postId, input: { title } }, author.token);
  }

  it('executes an event once for many subscribers of one shape, and all receive the same result', async () => {
    const postId = await createPost(app, author);
    const subs = readers.flatMap((reader) => {
      const ws = socketFor(reader);
      return [new Subscription(ws.client, POST_UPDATED, { postId }), new Subscription(ws.client, POST_UPDATED, { postId })];
    });
    await waitForStreams(app, 'postUpdated', subs.length);
    const loads = vi.spyOn(app.app.runtime.services.posts, 'loadForEvent');
    await rename(postId, 'Shared once');
    const received = await Promise.all(subs.map((s) => s.until((d) => d.postUpdated.post.title === 'Shared once')));
    const eventId = received[0]!.postUpdated.eventId;
    expect(received.map((r) => r.postUpdated)).toEqual(received.map(() => ({ eventId, change: 'UPDATED', post: { id: postId, title: 'Shared once' } })));
    // `post` is resolved once for the event, not once per subscriber (6 here).
    expect(loads.mock.calls.filter(([id]) => id === postId)).toHaveLength(1);
    loads.mockRestore();
    for (const s of subs) s.stop();
    await waitForStreamsClosed(app, 'postUpdated');
  });

  it('shares a live event among subscribers resumed from different cursors (after decides only where each starts)', async () => {
    const postId = await createPost(app, author);
    const RESUMABLE = `subscription($postId: ID!, $after: String) { postUpdated(postId: $postId, after: $after) { eventId change post { id title } } }`;
    const first = new Subscription(socketFor(readers[0]!).client, RESUMABLE, { postId });
    await waitForStreams(app, 'postUpdated', 1);
    await rename(postId, 'cursor one');
    const one = (await first.until((d) => d.postUpdated.post.title === 'cursor one')).postUpdated.eventId;
    await rename(postId, 'cursor two');
    const two = (await first.until((d) => d.postUpdated.post.title === 'cursor two')).postUpdated.eventId;
    const fromOne = new Subscription(socketFor(readers[1]!).client, RESUMABLE, { postId, after: one });
    const fromTwo = new Subscription(socketFor(readers[2]!).client, RESUMABLE, { postId, after: two });
    await fromOne.until((d) => d.postUpdated.eventId === two);
    await waitForStreams(app, 'postUpdated', 3);
    const loads = vi.spyOn(app.app.runtime.services.posts, 'loadForEvent');
    await rename(postId, 'live for all');
    const received = await Promise.all([first, fromOne, fromTwo].map((sub) => sub.until((d) => d.postUpdated.post.title === 'live for all')));
    expect(new Set(received.map((r) => r.postUpdated.eventId)).size).toBe(1);
    // One execution for the three subscribers: their `after` values differ, their results cannot.
    expect(loads.mock.calls.filter(([id]) => id === postId)).toHaveLength(1);
    loads.mockRestore();
    for (const sub of [first, fromOne, fromTwo]) sub.stop();
    await waitForStreamsClosed(app, 'postUpdated');
  });

  it('hands local subscribers the row this instance just wrote, without loading it again or waiting on a pending execution', async () => {
    const postId = await createPost(app, author);
    const subs = [readers[0]!, readers[1]!].map((reader) => new Subscription(socketFor(reader).client, POST_UPDATED, { postId }));
    await waitForStreams(app, 'postUpdated', 2);
    const loader = (app.app.runtime.services.posts as unknown as { deps: { eventRows: { load: (id: string) => Promise<unknown> } } }).deps.eventRows;
    const loads = vi.spyOn(loader, 'load');
    const waits = vi.spyOn(PendingResult.prototype, 'deliverTo');
    try {
      await rename(postId, 'Written here');
      const events = await Promise.all(subs.map((sub) => sub.until((d) => d.postUpdated.post.title === 'Written here')));
      for (const event of events) expect(event.postUpdated.post).toEqual({ id: postId, title: 'Written here' });
      expect(loads.mock.calls.filter(([id]) => id === postId)).toHaveLength(0);
      // The row is known, so the shared execution finished in the same turn: each subscriber was written as
      // the event reached it, none queued behind the execution (a fan-out's first frame leaves at once).
      expect(waits).not.toHaveBeenCalled();
    } finally {
      loads.mockRestore();
      waits.mockRestore();
      for (const sub of subs) sub.stop();
      await waitForStreamsClosed(app, 'postUpdated');
    }
  });

  it('gives each viewer their own likedByMe and author email', async () => {
    const postId = await createPost(app, author);
    const [liker, other] = readers as [TestUser, TestUser];
    await gqlOk(app, 'mutation($p: ID!) { likePost(postId: $p) { likeCount } }', { p: postId }, liker.token);
    const viewers = [liker, other, author, staff];
    const subs = viewers.map((viewer) => new Subscription(socketFor(viewer).client, POST_UPDATED_PERSONAL, { postId }));
    await waitForStreams(app, 'postUpdated', subs.length);
    await rename(postId, 'Personal');
    const [asLiker, asOther, asAuthor, asStaff] = await Promise.all(subs.map((s) => s.until((d) => d.postUpdated.post.title === 'Personal')));
    expect(asLiker!.postUpdated.post).toMatchObject({ likedByMe: true, author: { id: author.id, email: null } });
    expect(asOther!.postUpdated.post).toMatchObject({ likedByMe: false, author: { id: author.id, email: null } });
    expect(asAuthor!.postUpdated.post).toMatchObject({ likedByMe: false, author: { id: author.id, email: author.email } });
    expect(asStaff!.postUpdated.post).toMatchObject({ likedByMe: false, author: { id: author.id, email: author.email } });
    for (const s of subs) s.stop();
    await waitForStreamsClosed(app, 'postUpdated');
  });

  it('executes per viewer a selection whose only viewer-dependent field is likedByMe (declared on the field)', async () => {
    const postId = await createPost(app, author);
    const [liker, other] = readers as [TestUser, TestUser];
    await gqlOk(app, 'mutation($p: ID!) { likePost(postId: $p) { likeCount } }', { p: postId }, liker.token);
    const subs = [liker, other].map((viewer) => new Subscription(socketFor(viewer).client, POST_UPDATED_LIKED, { postId }));
    await waitForStreams(app, 'postUpdated', subs.length);
    await rename(postId, 'Liked or not');
    const [asLiker, asOther] = await Promise.all(subs.map((s) => s.until((d) => d.postUpdated.post.title === 'Liked or not')));
    expect(asLiker!.postUpdated.post.likedByMe).toBe(true);
    expect(asOther!.postUpdated.post.likedByMe).toBe(false);
    for (const s of subs) s.stop();
    await waitForStreamsClosed(app, 'postUpdated');
  });

  it('never hands a reader the pending comment computed for the post author', async () => {
    const postId = await createPost(app, author);
    const [reader, commenter] = readers as [TestUser, TestUser];
    // The author subscribes first, so the pending comment is executed (and cached) for the author's shape first.
    const asAuthor = new Subscription(socketFor(author).client, COMMENT_ADDED, { postId });
    await waitForStreams(app, 'commentAdded', 1);
    const asReader = new Subscription(socketFor(reader).client, COMMENT_ADDED, { postId });
    await waitForStreams(app, 'commentAdded', 2);
    const addComment = 'mutation($p: ID!, $c: String!) { addComment(postId: $p, content: $c) { id status } }';
    const pending = await gqlOk(app, addComment, { p: postId, c: 'awaiting moderation' }, commenter.token);
    expect(pending.addComment.status).toBe('PENDING');
    const seenByAuthor = await asAuthor.until((d) => d.commentAdded.comment.id === pending.addComment.id);
    expect(seenByAuthor.commentAdded.comment.status).toBe('PENDING');
    const approved = await gqlOk(app, addComment, { p: postId, c: 'from the author' }, author.token);
    // The reader's first event is the approved comment: the pending one never reached them.
    const first = await asReader.next();
    expect(first.errors).toBeUndefined();
    expect((first.data as { commentAdded: { comment: { id: string; status: string } } }).commentAdded.comment).toMatchObject({
      id: approved.addComment.id,
      status: 'APPROVED',
    });
    asAuthor.stop();
    asReader.stop();
    await waitForStreamsClosed(app, 'commentAdded');
  });

  it('keeps the others running when one subscriber leaves, and closes the source when the last leaves', async () => {
    const postId = await createPost(app, author);
    const before = app.app.runtime.pubsub.openStreams('postUpdated');
    const subs = readers.map((reader) => new Subscription(socketFor(reader).client, POST_UPDATED, { postId }));
    await waitForStreams(app, 'postUpdated', before + subs.length);
    await rename(postId, 'Three listening');
    await Promise.all(subs.map((s) => s.until((d) => d.postUpdated.post.title === 'Three listening')));

    subs[0]!.stop();
    await eventuallyOpen(app, before + 2);
    await rename(postId, 'Two listening');
    for (const s of subs.slice(1)) expect((await s.until((d) => d.postUpdated.post.title === 'Two listening')).postUpdated.change).toBe('UPDATED');

    for (const s of subs.slice(1)) s.stop();
    await eventuallyOpen(app, before);
  });
});

/** Waits (bounded) until exactly `count` postUpdated streams are open on the instance. */
async function eventuallyOpen(app: TestApp, count: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (app.app.runtime.pubsub.openStreams('postUpdated') !== count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} open postUpdated streams, have ${app.app.runtime.pubsub.openStreams('postUpdated')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
