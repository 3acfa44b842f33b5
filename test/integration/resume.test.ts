import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { backend } from '../helpers/backends.js';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams } from '../helpers/streams.js';
import { SseStream } from '../helpers/sse.js';
import { eventually } from '../helpers/connections.js';
import { startHeraldProcesses, type HeraldProcess } from '../helpers/processes.js';
import { waitForChannelSubscribers } from '../helpers/redis-channels.js';
import { topics } from '../../src/realtime/topics.js';
import { subscribeResumable } from '../../examples/lib/resumable.js';

// A subscriber drops its socket, events are written meanwhile, it resubscribes with `after`: it gets exactly
// what it missed, in order, then live events, none twice. Some writes come through a second instance where
// the backend allows two (PostgreSQL + Redis).

const COMMENT_ADDED = 'subscription($postId: ID!, $after: String) { commentAdded(postId: $postId, after: $after) { eventId comment { content } } }';
const COMMENT_APPROVED = 'subscription($postId: ID!, $after: String) { commentApproved(postId: $postId, after: $after) { eventId comment { content } } }';
const POST_UPDATED = 'subscription($postId: ID!, $after: String) { postUpdated(postId: $postId, after: $after) { eventId post { title } } }';
const NOTIFICATIONS = 'subscription($after: String) { notifications(types: [COMMENT_ADDED], after: $after) { eventId data } }';
const ADD_COMMENT = 'mutation($postId: ID!, $content: String!) { addComment(postId: $postId, content: $content) { id } }';
const APPROVE = 'mutation($id: ID!) { approveComment(id: $id) { id } }';
const UPDATE_POST = 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }';

interface People {
  readonly commenter: TestUser;
  readonly stranger: TestUser;
}

interface Case {
  readonly name: string;
  readonly topic: 'commentAdded' | 'commentApproved' | 'postUpdated' | 'notificationCreated';
  readonly query: string;
  readonly subscriber: () => TestUser;
  readonly variables: () => Record<string, unknown>;
  /**
   * Writes event `label` through `via`; the event is told apart by `label` in what `labelOf` reads. Each
   * test has its own commenters (addComment is rate limited per user).
   */
  readonly write: (via: TestApp, label: string, people: People) => Promise<string | void>;
  readonly labelOf: (data: Record<string, any>) => string;
}

describe.runIf(backendAvailable())('resuming a subscription after its last event (after)', () => {
  let shared: TestBackend;
  let app: TestApp;
  /** A second instance on the same database and Redis (services only; the embedded database has one owner). */
  let other: TestApp | null = null;
  let author: TestUser;
  let reader: TestUser;
  let postId: string;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    shared = await createTestBackend();
    app = await startTestApp({}, shared);
    if (backend === 'services') other = await startTestApp({}, shared);
    author = await registerUser(app, 'resume_author');
    reader = await registerUser(app, 'resume_reader');
    postId = await createPost(app, author);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await other?.stop();
    await app?.stop();
    await shared?.dispose();
  });

  function socket(user: TestUser): WsHandle {
    const ws = connectWs(app, bearer(user.token));
    sockets.push(ws);
    return ws;
  }

  const cases: Case[] = [
    {
      name: 'commentAdded',
      topic: 'commentAdded',
      query: COMMENT_ADDED,
      subscriber: () => reader,
      variables: () => ({ postId }),
      // The post's author's comments are approved at once: every reader may see them.
      write: async (via, label, { stranger }) => {
        await gqlOk(via, ADD_COMMENT, { postId, content: label }, author.token);
        // A stranger's pending comment in between: the reader may not see it, so the replay skips it.
        await gqlOk(via, ADD_COMMENT, { postId, content: `pending ${label}` }, stranger.token);
      },
      labelOf: (d) => d.commentAdded.comment.content,
    },
    {
      name: 'commentApproved',
      topic: 'commentApproved',
      query: COMMENT_APPROVED,
      subscriber: () => reader,
      variables: () => ({ postId }),
      write: async (via, label, { stranger }) => {
        const added = await gqlOk<{ addComment: { id: string } }>(via, ADD_COMMENT, { postId, content: label }, stranger.token);
        await gqlOk(via, APPROVE, { id: added.addComment.id }, author.token);
      },
      labelOf: (d) => d.commentApproved.comment.content,
    },
    {
      name: 'postUpdated',
      topic: 'postUpdated',
      query: POST_UPDATED,
      subscriber: () => reader,
      variables: () => ({ postId }),
      write: async (via, label) => {
        await gqlOk(via, UPDATE_POST, { id: postId, input: { title: label } }, author.token);
      },
      // Resolvers load the post as it is when the event is delivered: the replay's titles are the last one.
      labelOf: (d) => d.postUpdated.post.title,
    },
    {
      name: 'notifications',
      topic: 'notificationCreated',
      query: NOTIFICATIONS,
      subscriber: () => author,
      variables: () => ({}),
      // A reader's comment on the author's post tells the author (COMMENT_ADDED); told apart by the comment id.
      write: async (via, label, { commenter }) => {
        const added = await gqlOk<{ addComment: { id: string } }>(via, ADD_COMMENT, { postId, content: label }, commenter.token);
        return `${label} ${added.addComment.id}`;
      },
      labelOf: (d) => String(d.notifications.data?.commentId),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: delivers exactly the events written while the subscriber was away, in order, then live ones`, async () => {
      const tag = `${c.name}-${Date.now()}`;
      const people: People = { commenter: await registerUser(app, 'resume_commenter'), stranger: await registerUser(app, 'resume_stranger') };
      const first = new Subscription(socket(c.subscriber()).client, c.query, c.variables());
      await waitForStreams(app, c.topic, 1);
      const seenLabel = (await c.write(app, `${tag} seen`, people)) ?? `${tag} seen`;
      const seen = await first.until((d) => seenLabel.includes(c.labelOf(d)));
      const cursor = Object.values(seen)[0].eventId as string;
      first.stop();
      await sockets.at(-1)!.dispose();

      const missed = [`${tag} m1`, `${tag} m2`, `${tag} m3`, `${tag} m4`];
      const written: string[] = [];
      for (const [i, label] of missed.entries()) written.push((await c.write(other && i % 2 === 1 ? other : app, label, people)) ?? label);

      const resumed = new Subscription(socket(c.subscriber()).client, c.query, { ...c.variables(), after: cursor });
      const replayed: { eventId: string; label: string }[] = [];
      for (let i = 0; i < missed.length; i++) {
        const result = await resumed.next(10_000);
        expect(result.errors).toBeUndefined();
        const data = result.data as Record<string, any>;
        replayed.push({ eventId: Object.values(data)[0].eventId, label: c.labelOf(data) });
      }
      if (c.name === 'postUpdated') {
        // Four UPDATED events, each loading the post as it is now.
        expect(replayed.map((r) => r.label)).toEqual(missed.map(() => missed.at(-1)));
      } else {
        expect(replayed.every((r, i) => written[i]!.endsWith(r.label))).toBe(true);
      }
      const ids = replayed.map((r) => r.eventId);
      expect([...ids].sort()).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids[0]! > cursor).toBe(true);

      const liveLabel = (await c.write(other ?? app, `${tag} live`, people)) ?? `${tag} live`;
      const live = await resumed.until((d) => liveLabel.endsWith(c.labelOf(d)), 10_000);
      expect(Object.values(live)[0].eventId > ids.at(-1)!).toBe(true);
      // Nothing twice: no further event is queued behind the live one.
      expect(resumed.pending).toBe(0);
      resumed.stop();
    });
  }

  it('resumes an SSE stream the standard way: each event carries id:, a reconnect sends it back as Last-Event-ID', async () => {
    const commenter = await registerUser(app, 'sse_commenter');
    const first = new SseStream(app, COMMENT_ADDED, { postId }, reader.token);
    await waitForStreams(app, 'commentAdded', 1);
    await gqlOk(app, ADD_COMMENT, { postId, content: 'sse seen' }, author.token);
    const seen = await first.waitFor((e) => e.data?.commentAdded?.comment.content === 'sse seen', 10_000);
    const lastEventId = first.ids[first.events.indexOf(seen)];
    expect(lastEventId).toBe(seen.data.commentAdded.eventId);
    first.close();
    await first.ended;

    const missed = ['sse m1', 'sse m2', 'sse m3'];
    for (const [i, content] of missed.entries()) await gqlOk(other && i === 1 ? other : app, ADD_COMMENT, { postId, content }, i === 2 ? commenter.token : author.token);
    const resumed = new SseStream(app, COMMENT_ADDED, { postId }, reader.token, { 'last-event-id': lastEventId as string });
    // The commenter's comment is pending: the reader may not see it, so the replay holds two.
    await resumed.waitFor((e) => e.data?.commentAdded?.comment.content === 'sse m2', 10_000);
    await gqlOk(app, ADD_COMMENT, { postId, content: 'sse live' }, author.token);
    await resumed.waitFor((e) => e.data?.commentAdded?.comment.content === 'sse live', 10_000);
    expect(resumed.events.map((e) => e.data.commentAdded.comment.content)).toEqual(['sse m1', 'sse m2', 'sse live']);
    expect(resumed.ids).toEqual(resumed.events.map((e) => e.data.commentAdded.eventId));
    resumed.close();
  });

  it('refuses a cursor it cannot honour with RESUME_UNAVAILABLE and the reason, never a partial replay', async () => {
    const live = new Subscription(socket(reader).client, POST_UPDATED, { postId });
    await waitForStreams(app, 'postUpdated', 1);
    await gqlOk(app, UPDATE_POST, { id: postId, input: { title: 'cursor source' } }, author.token);
    const event = await live.until((d) => d.postUpdated.post.title === 'cursor source');
    live.stop();
    const epoch = String(event.postUpdated.eventId).split('-')[1];
    const failureOf = async (after: string) => {
      const sub = new Subscription(socket(reader).client, POST_UPDATED, { postId, after });
      const errors = (await sub.failure(10_000)) as { extensions?: { code?: string; reason?: string } }[];
      return errors[0]?.extensions;
    };
    expect(await failureOf('not-an-event-id')).toEqual({ code: 'RESUME_UNAVAILABLE', reason: 'MALFORMED_CURSOR' });
    expect(await failureOf(`7fffffffffffffff-${epoch}`)).toEqual({ code: 'RESUME_UNAVAILABLE', reason: 'UNKNOWN_CURSOR' });
    // A cursor from another database (a wiped data directory, another deployment) is not taken for one of ours.
    expect(await failureOf(String(event.postUpdated.eventId).replace(/-.*$/, '-00000000'))).toEqual({ code: 'RESUME_UNAVAILABLE', reason: 'UNKNOWN_CURSOR' });

    // Retention deletes everything up to now: the cursor is older than the replay window.
    expect(await app.app.runtime.eventLog.prune(0)).toBeGreaterThan(0);
    expect(await failureOf(event.postUpdated.eventId)).toEqual({ code: 'RESUME_UNAVAILABLE', reason: 'CURSOR_EXPIRED' });
  });
});

describe.runIf(backendAvailable() && backend === 'services')('events whose writes commit late', () => {
  let app: TestApp;
  let author: TestUser;
  let postId: string;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    // No doorbell rings for raw SQL writes: the log's backstop read finds them.
    app = await startTestApp({ EVENT_LOG_POLL_INTERVAL: '200ms' });
    author = await registerUser(app, 'late_author');
    postId = await createPost(app, author);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  it('orders a write that began first and committed last after the other, so a resume from between gets it', async () => {
    const insert = (client: pg.Client, content: string) =>
      client.query(`INSERT INTO "Comment" ("id", "postId", "authorId", "content", "status", "updatedAt") VALUES (gen_random_uuid()::text, $1, $2, $3, 'APPROVED', now())`, [postId, author.id, content]);
    const slow = new pg.Client({ connectionString: app.env.DATABASE_URL });
    const quick = new pg.Client({ connectionString: app.env.DATABASE_URL });
    await Promise.all([slow.connect(), quick.connect()]);
    try {
      const ws = connectWs(app, bearer(author.token));
      sockets.push(ws);
      const live = new Subscription(ws.client, COMMENT_ADDED, { postId });
      await waitForStreams(app, 'commentAdded', 1);
      await gqlOk(app, ADD_COMMENT, { postId, content: 'before both' }, author.token);
      const before = await live.until((d) => d.commentAdded.comment.content === 'before both', 10_000);

      // `slow` writes first and holds its transaction open; `quick` writes second and commits at once.
      await slow.query('BEGIN');
      await insert(slow, 'began first, committed last');
      const quickDone = insert(quick, 'began second, committed first');
      // quick's append waits for slow's commit (one append at a time to commit), so it cannot be seen first.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await slow.query('COMMIT');
      await quickDone;

      const order = [(await live.next(10_000)).data, (await live.next(10_000)).data].map((d) => (d as Record<string, any>).commentAdded.comment.content);
      expect(order).toEqual(['began first, committed last', 'began second, committed first']);

      // A client that saw only `before both` and resumes gets both; one that saw the first gets the second.
      const fromBefore = new Subscription(ws.client, COMMENT_ADDED, { postId, after: before.commentAdded.eventId });
      const replayed = [(await fromBefore.next(10_000)).data, (await fromBefore.next(10_000)).data] as Record<string, any>[];
      expect(replayed.map((d) => d.commentAdded.comment.content)).toEqual(order);
      const fromBetween = new Subscription(ws.client, COMMENT_ADDED, { postId, after: replayed[0]!.commentAdded.eventId });
      const rest = (await fromBetween.next(10_000)).data as Record<string, any>;
      expect(rest.commentAdded.comment.content).toBe('began second, committed first');
      expect(fromBetween.pending).toBe(0);
    } finally {
      await Promise.all([slow.end(), quick.end()]);
    }
  });
});

describe.runIf(backendAvailable() && backend === 'services')('a graceful deploy loses nothing', () => {
  let shared: TestBackend;
  let procs: HeraldProcess[] = [];

  beforeAll(async () => {
    shared = await createTestBackend();
    procs = await startHeraldProcesses(2, shared);
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await shared?.dispose();
  });

  it('a client of an instance stopped with SIGTERM reconnects to the other and, resuming, misses no event written meanwhile', async () => {
    const [stopping, staying] = procs as [HeraldProcess, HeraldProcess];
    const author = await registerUser(staying as unknown as TestApp, 'deploy_author');
    const postId = await createPost(staying as unknown as TestApp, author);
    let connects = 0;
    // The load balancer of this test: the first connection goes to the instance about to stop, the next ones to the other.
    const client = createClient({
      url: () => (connects++ === 0 ? stopping.wsUrl : staying.wsUrl),
      webSocketImpl: WebSocket,
      connectionParams: bearer(author.token),
      retryAttempts: 5,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
      shouldRetry: () => true,
    });
    const received: string[] = [];
    const failures: unknown[] = [];
    const unsubscribe = subscribeResumable<{ data?: { postUpdated: { eventId: string } } | null; errors?: unknown }>(
      client,
      { query: POST_UPDATED, variables: { postId } },
      { next: (result) => (result.data ? received.push(result.data.postUpdated.eventId) : failures.push(result.errors)), error: (error) => failures.push(error), complete: () => undefined },
    );
    try {
      await waitForChannelSubscribers(shared.env.REDIS_URL as string, shared.env.REDIS_PREFIX as string, topics.postUpdated(postId));
      const writes = 40;
      let written = 0;
      // Writes keep coming through the other instance while the first one drains and exits.
      const writing = (async () => {
        for (; written < writes; written++) {
          await gqlOk(staying as unknown as TestApp, UPDATE_POST, { id: postId, input: { title: `w${written}` } }, author.token);
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
      })();
      await eventually(() => received.length >= 5, 'the first events', 10_000);
      stopping.kill('SIGTERM');
      expect((await stopping.waitForExit()).code).toBe(0);
      await writing;
      await eventually(() => received.length >= writes, `all ${writes} events (got ${received.length})`, 15_000);
      expect(connects).toBeGreaterThanOrEqual(2);
      expect(failures).toEqual([]);
      expect(received).toHaveLength(writes);
      expect(new Set(received).size).toBe(writes);
      expect([...received].sort()).toEqual(received);
    } finally {
      unsubscribe();
      await client.dispose();
    }
  }, 60_000);
});
