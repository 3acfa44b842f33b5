import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
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
});
