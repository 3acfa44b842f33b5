import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../helpers/backends.js';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams } from '../helpers/streams.js';

const TYPING = 'subscription($postId: ID!) { typing(postId: $postId) { eventId timestamp postId isTyping user { id } typingUsers { id } } }';
const SET_TYPING = 'mutation($postId: ID!, $isTyping: Boolean!) { setTyping(postId: $postId, isTyping: $isTyping) }';

interface TypingData {
  typing: { eventId: string; postId: string; isTyping: boolean; user: { id: string } | null; typingUsers: { id: string }[] };
}

const ids = (d: TypingData) => d.typing.typingUsers.map((u) => u.id).sort();
const isEvent = (user: TestUser, isTyping: boolean) => (d: TypingData) => d.typing.user?.id === user.id && d.typing.isTyping === isTyping;

/** Runs one mutation over a graphql-ws connection (so the server knows which socket sent it). */
function wsExecute(client: Client, query: string, variables: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let result: unknown;
    client.subscribe({ query, variables }, { next: (value) => (result = value), error: reject, complete: () => resolve(result) });
  });
}

async function subscribeTyping(app: TestApp, ws: WsHandle, postId: string): Promise<Subscription<TypingData>> {
  const before = app.app.runtime.pubsub.openStreams('typingChanged');
  const sub = new Subscription<TypingData>(ws.client, TYPING, { postId });
  await waitForStreams(app, 'typingChanged', before + 1);
  return sub;
}

describe.runIf(backendAvailable())('typing', () => {
  // A TTL far beyond any wait below: an isTyping:false seen here comes from setTyping(false) or a closed socket.
  let app: TestApp;
  // A short TTL: expiry is observed by waiting for the event.
  let fast: TestApp;
  let author: TestUser;
  let reader: TestUser;
  let other: TestUser;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    [app, fast] = await Promise.all([startTestApp({ TYPING_TTL: '60s' }), startTestApp({ TYPING_TTL: '300ms' })]);
    [author, reader, other] = await Promise.all([registerUser(app, 'author'), registerUser(app, 'reader'), registerUser(app, 'other')]);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await Promise.all([app?.stop(), fast?.stop()]);
  });

  function socket(target: TestApp, user: TestUser): WsHandle {
    const ws = connectWs(target, bearer(user.token));
    sockets.push(ws);
    return ws;
  }

  it('delivers starts and stops with the current typing users, and a snapshot to late subscribers', async () => {
    const postId = await createPost(app, author);
    const watcher = await subscribeTyping(app, socket(app, other), postId);

    expect((await gqlOk(app, SET_TYPING, { postId, isTyping: true }, reader.token)).setTyping).toBe(true);
    const started = await watcher.until(isEvent(reader, true));
    expect(ids(started)).toEqual([reader.id]);
    expect(started.typing.postId).toBe(postId);

    await gqlOk(app, SET_TYPING, { postId, isTyping: true }, author.token);
    expect(ids(await watcher.until(isEvent(author, true)))).toEqual([author.id, reader.id].sort());

    const late = await subscribeTyping(app, socket(app, other), postId);
    const snapshot = await late.next();
    expect((snapshot.data as TypingData).typing).toMatchObject({ user: null, isTyping: true });
    expect(ids(snapshot.data as TypingData)).toEqual([author.id, reader.id].sort());

    await gqlOk(app, SET_TYPING, { postId, isTyping: false }, reader.token);
    expect(ids(await watcher.until(isEvent(reader, false)))).toEqual([author.id]);
    expect(ids(await late.until(isEvent(reader, false)))).toEqual([author.id]);
    await gqlOk(app, SET_TYPING, { postId, isTyping: false }, author.token);
    expect(ids(await watcher.until(isEvent(author, false)))).toEqual([]);
    watcher.stop();
    late.stop();
  });

  it('ends typing as soon as the typist’s socket closes', async () => {
    const postId = await createPost(app, author);
    const typist = await registerUser(app, 'typist');
    const watcher = await subscribeTyping(app, socket(app, other), postId);
    const typistSocket = connectWs(app, bearer(typist.token));
    await wsExecute(typistSocket.client, SET_TYPING, { postId, isTyping: true });
    await watcher.until(isEvent(typist, true));

    await typistSocket.dispose();
    const ended = await watcher.until(isEvent(typist, false));
    expect(ids(ended)).toEqual([]);
    watcher.stop();
  });

  it('keeps typing while another socket of the typist that reported it stays open', async () => {
    const postId = await createPost(app, author);
    const typist = await registerUser(app, 'twotabs');
    const watcher = await subscribeTyping(app, socket(app, other), postId);
    const tab1 = connectWs(app, bearer(typist.token));
    const tab2 = connectWs(app, bearer(typist.token));
    await wsExecute(tab1.client, SET_TYPING, { postId, isTyping: true });
    await wsExecute(tab2.client, SET_TYPING, { postId, isTyping: true });
    await watcher.until(isEvent(typist, true));
    await tab1.dispose();
    // A marker after the first close: had the close ended typing, its event would come before the marker's.
    await gqlOk(app, SET_TYPING, { postId, isTyping: true }, author.token);
    const next = await watcher.next();
    expect((next.data as TypingData).typing.user?.id).toBe(author.id);
    expect(ids(next.data as TypingData)).toEqual([author.id, typist.id].sort());
    await tab2.dispose();
    await watcher.until(isEvent(typist, false));
    watcher.stop();
  });

  it('publishes one start for a client spamming setTyping(true)', async () => {
    const postId = await createPost(app, author);
    const spammer = await registerUser(app, 'spammer');
    const marker = await registerUser(app, 'marker');
    const watcher = await subscribeTyping(app, socket(app, other), postId);
    const results = await Promise.all(Array.from({ length: 100 }, () => gql(app, SET_TYPING, { postId, isTyping: true }, spammer.token)));
    const codes = new Set(results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK'));
    expect([...codes].sort()).toEqual(['OK', 'RATE_LIMITED']);
    // Everything the spam published is queued before the marker's event.
    await gqlOk(app, SET_TYPING, { postId, isTyping: true }, marker.token);
    const seen: TypingData[] = [];
    await watcher.until((d) => {
      seen.push(d);
      return d.typing.user?.id === marker.id;
    });
    const fromSpammer = seen.filter((d) => d.typing.user?.id === spammer.id);
    expect(fromSpammer.length).toBeLessThanOrEqual(2);
    expect(fromSpammer[0]?.typing.isTyping).toBe(true);
    watcher.stop();
  });

  it('expires typing by itself after TYPING_TTL and tells subscribers', async () => {
    const [fastAuthor, typist, watcherUser] = await Promise.all([registerUser(fast, 'author'), registerUser(fast, 'typist'), registerUser(fast, 'watcher')]);
    const postId = await createPost(fast, fastAuthor);
    const watcher = await subscribeTyping(fast, socket(fast, watcherUser), postId);
    await gqlOk(fast, SET_TYPING, { postId, isTyping: true }, typist.token);
    await watcher.until(isEvent(typist, true));
    const expired = await watcher.until(isEvent(typist, false), 5000);
    expect(ids(expired)).toEqual([]);
    // Expired means gone: the next setTyping(true) is a new start and is published again.
    await gqlOk(fast, SET_TYPING, { postId, isTyping: true }, typist.token);
    await watcher.until(isEvent(typist, true));
    watcher.stop();
  });

  it('refuses anonymous typists, and missing or hidden posts with NOT_FOUND', async () => {
    const postId = await createPost(app, author);
    expect((await gql(app, SET_TYPING, { postId, isTyping: true })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const draftId = await createPost(app, author, { publish: false });
    for (const id of [randomUUID(), draftId]) {
      expect((await gql(app, SET_TYPING, { postId: id, isTyping: true }, other.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const sub = new Subscription(socket(app, other).client, TYPING, { postId: id });
      expect(JSON.stringify(await sub.failure())).toContain('NOT_FOUND');
    }
  });
});

describe.runIf(backendAvailable() && backend === 'services')('typing across instances (shared Redis)', () => {
  let shared: TestBackend;
  let a: TestApp;
  let b: TestApp;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    shared = await createTestBackend();
    a = await startTestApp({ TYPING_TTL: '300ms' }, shared);
    b = await startTestApp({ TYPING_TTL: '300ms' }, shared);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await Promise.all([a?.stop(), b?.stop()]);
    await shared?.dispose();
  });

  it('shows a subscriber on B the start and the expiry of a typist on A, even after A is gone', async () => {
    const [author, typist, watcherUser] = await Promise.all([registerUser(a, 'author'), registerUser(a, 'typist'), registerUser(a, 'watcher')]);
    const postId = await createPost(a, author);
    const ws = connectWs(b, bearer(watcherUser.token));
    sockets.push(ws);
    const watcher = await subscribeTyping(b, ws, postId);

    await gqlOk(a, SET_TYPING, { postId, isTyping: true }, typist.token);
    expect(ids(await watcher.until(isEvent(typist, true)))).toEqual([typist.id]);
    // Re-sends on the other instance see the shared state: nothing new is published.
    await gqlOk(b, SET_TYPING, { postId, isTyping: true }, typist.token);
    await a.stop();
    // The very next event is the expiry (the re-send published nothing), swept by B alone.
    const expired = (await watcher.next(5000)).data as TypingData;
    expect(expired.typing).toMatchObject({ user: { id: typist.id }, isTyping: false });
    expect(ids(expired)).toEqual([]);
    watcher.stop();
  });
});
