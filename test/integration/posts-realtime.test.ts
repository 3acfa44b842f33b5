import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';
import { waitForStreams } from '../helpers/streams.js';

const POST_UPDATED = `subscription($postId: ID!) { postUpdated(postId: $postId) { eventId timestamp change postId post { id title status } } }`;

describe.runIf(backendAvailable())('postUpdated over graphql-ws', () => {
  let app: TestApp;
  let author: TestUser;
  let reader: TestUser;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    author = await registerUser(app, 'author');
    reader = await registerUser(app, 'reader');
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  it('delivers updatePost to a subscriber with an event id and timestamp', async () => {
    const postId = await createPost(app, author);
    const ws = connectWs(app, bearer(reader.token));
    sockets.push(ws);
    const sub = new Subscription(ws.client, POST_UPDATED, { postId });
    // The subscription is live once the server counts it; the first update then must arrive.
    await waitForStreams(app, 'postUpdated', 1);
    await gqlOk(app, 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }', { id: postId, input: { title: 'Renamed' } }, author.token);
    const event = await sub.until((d) => d.postUpdated.post.title === 'Renamed');
    expect(event.postUpdated.change).toBe('UPDATED');
    expect(event.postUpdated.eventId).toMatch(/^[0-9a-f]{16}-[0-9a-f]{8}$/);
    expect(Date.parse(event.postUpdated.timestamp)).not.toBeNaN();
    sub.stop();
  });

  it('refuses a draft to a reader when the subscription starts (NOT_FOUND)', async () => {
    const draftId = await createPost(app, author, { publish: false });
    const ws = connectWs(app, bearer(reader.token));
    sockets.push(ws);
    const sub = new Subscription(ws.client, POST_UPDATED, { postId: draftId });
    expect(JSON.stringify(await sub.failure())).toContain('NOT_FOUND');
  });

  // Subscription starts answer visibility from a cache; publishing must reach it at once, not after its TTL.
  it('lets a reader subscribe right after the draft they were refused is published', async () => {
    const draftId = await createPost(app, author, { publish: false });
    const ws = connectWs(app, bearer(reader.token));
    sockets.push(ws);
    const refused = new Subscription(ws.client, POST_UPDATED, { postId: draftId });
    expect(JSON.stringify(await refused.failure())).toContain('NOT_FOUND');
    await gqlOk(app, 'mutation($id: ID!) { publishPost(id: $id) { id } }', { id: draftId }, author.token);
    const before = app.app.runtime.pubsub.openStreams('postUpdated');
    const sub = new Subscription(ws.client, POST_UPDATED, { postId: draftId });
    await waitForStreams(app, 'postUpdated', before + 1);
    await gqlOk(app, 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }', { id: draftId, input: { title: 'Now public' } }, author.token);
    const event = await sub.until((d) => d.postUpdated.post.title === 'Now public');
    expect(event.postUpdated.post.status).toBe('PUBLISHED');
    sub.stop();
  });
  // updatePost writes through `pg`, not Prisma (src/data/post-text-update.ts): what it returns, what a
  // subscriber gets and what is stored must still be the same row, whatever the process's time zone.
  it('returns and delivers the row as stored, in any process time zone', async () => {
    const postId = await createPost(app, author);
    const ws = connectWs(app, bearer(reader.token));
    sockets.push(ws);
    const fields = 'id title content status viewCount likeCount commentCount publishedAt createdAt updatedAt';
    const before = app.app.runtime.pubsub.openStreams('postUpdated');
    const sub = new Subscription(ws.client, `subscription($postId: ID!) { postUpdated(postId: $postId) { post { ${fields} } } }`, { postId });
    await waitForStreams(app, 'postUpdated', before + 1);
    const zone = process.env.TZ;
    process.env.TZ = 'Pacific/Chatham'; // +13:45: a local-time misreading of a timestamp would show
    try {
      const updated = await gqlOk<{ updatePost: Record<string, unknown> }>(
        app,
        `mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { ${fields} } }`,
        { id: postId, input: { content: 'Rewritten \u00e9\u{1F600}' } },
        author.token,
      );
      const { authorId, ...stored } = await app.app.runtime.db.post.findUniqueOrThrow({ where: { id: postId } });
      expect(authorId).toBe(author.id);
      expect(updated.updatePost).toEqual({
        ...stored,
        publishedAt: stored.publishedAt?.toISOString(),
        createdAt: stored.createdAt.toISOString(),
        updatedAt: stored.updatedAt.toISOString(),
      });
      expect(stored.content).toBe('Rewritten \u00e9\u{1F600}');
      expect(Math.abs(stored.updatedAt.getTime() - Date.now())).toBeLessThan(60_000);
      const event = await sub.until((d) => d.postUpdated.post.content === stored.content);
      expect(event.postUpdated.post).toEqual(updated.updatePost);
    } finally {
      process.env.TZ = zone;
      sub.stop();
    }
  });

  it('answers NOT_FOUND to staff for a post that does not exist, and creates nothing', async () => {
    const staff = await registerStaff(app);
    const missing = '00000000-0000-4000-8000-000000000000';
    const result = await gql(app, 'mutation($id: ID!) { updatePost(id: $id, input: { title: "x" }) { id } }', { id: missing }, staff.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await app.app.runtime.db.post.count({ where: { id: missing } })).toBe(0);
  });
});
