import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../helpers/backends.js';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { gqlOk } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';

/** Reads an SSE response until an event's data satisfies `predicate` (bounded). */
async function readSse(response: Response, predicate: (data: any) => boolean, timeoutMs = 5000): Promise<any> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('SSE timeout')), deadline - Date.now()))]);
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let index: number;
      while ((index = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (data) {
          const parsed = JSON.parse(data);
          if (predicate(parsed)) return parsed;
        }
      }
    }
    throw new Error('no matching SSE event');
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

describe.runIf(backendAvailable())('HTTP transport', () => {
  let app: TestApp;
  let author: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    author = await registerUser(app, 'sse_author');
  });
  afterAll(async () => app?.stop());

  it('runs a subscription over SSE with the Authorization header', async () => {
    const postId = await createPost(app, author);
    const controller = new AbortController();
    const response = await fetch(app.httpUrl, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${author.token}` },
      body: JSON.stringify({ query: 'subscription($id: ID!) { postStats(postId: $id) { postId likeCount } }', variables: { id: postId } }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const first = readSse(response, (d) => d.data?.postStats?.likeCount === 1);
    // The stream starts with the current counters, then a like arrives as an update.
    await new Promise((r) => setTimeout(r, 0));
    await gqlOk(app, 'mutation($id: ID!) { likePost(postId: $id) { likeCount } }', { id: postId }, author.token);
    expect((await first).data.postStats).toEqual({ postId, likeCount: 1 });
    controller.abort();
  });

  it('answers GET /graphql queries and serves GraphiQL to browsers without a CDN', async () => {
    const query = await fetch(`${app.httpUrl}?query=${encodeURIComponent('{ health { status } }')}`);
    expect(await query.json()).toEqual({ data: { health: { status: 'OK' } } });
    const page = await fetch(app.httpUrl, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(html).toContain('GraphiQL');
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn\.jsdelivr|esm\.sh)/);
  });

  it('serves liveness and readiness probes', async () => {
    expect((await fetch(`http://127.0.0.1:${app.port}/health`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${app.port}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'OK', database: 'UP' });
  });
});

describe.runIf(backend === 'embedded')('readiness without Redis', () => {
  it('reports 503 when the configured Redis is unreachable, and keeps serving', async () => {
    const app = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const ready = await fetch(`http://127.0.0.1:${app.port}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'DEGRADED', database: 'UP', redis: 'DOWN' });
      expect((await fetch(`http://127.0.0.1:${app.port}/health`)).status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});
