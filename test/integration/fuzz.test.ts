import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { RawSocket } from '../helpers/raw-ws.js';
import { waitForStreams } from '../helpers/streams.js';

// Seeded so a failure reproduces: FUZZ_SEED=<n> npx vitest run test/integration/fuzz.test.ts
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const CONNECTIONS = Number(process.env.FUZZ_CONNECTIONS ?? 60);
const FRAMES_PER_CONNECTION = 40;
const DOCUMENTS = Number(process.env.FUZZ_DOCUMENTS ?? 400);
const MAX_PAYLOAD = 16 * 1024;
const MAX_BODY = 64 * 1024;

/** Close codes the README documents for misbehaving clients (and 1000/1005 for a plain close). */
const DOCUMENTED_CLOSE_CODES = new Set([1000, 1005, 1009, 4400, 4401, 4403, 4408, 4409, 4429, 4413]);
/** Outcomes that mean the server kept its contract; anything else (4500, 1011, a hang) fails. */
const ANSWER_TYPES = new Set(['connection_ack', 'next', 'error', 'complete', 'pong', 'ping']);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.runIf(backendAvailable())('hostile input', () => {
  let app: TestApp;
  let author: TestUser;
  let postId: string;
  const sockets: WsHandle[] = [];
  const random = mulberry32(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (max: number) => Math.floor(random() * max);

  beforeAll(async () => {
    app = await startTestApp({ HTTP_MAX_BODY_BYTES: String(MAX_BODY), WS_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD), WS_INIT_TIMEOUT: '1s', WS_MAX_OPERATIONS_PER_SECOND: '1000' });
    author = await registerUser(app, 'fuzz');
    postId = await createPost(app, author);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  const VALID_QUERIES = ['query { health { status } }', 'subscription { health(intervalSeconds: 1) { status } }', `subscription { postUpdated(postId: "${'x'}") { change } }`, '{ __typename }'];

  function randomString(max: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz{}[]():"\\$@!#\u0000\u00e9\u4e2d\ud83d\ude00 \n\t';
    return Array.from({ length: int(max) }, () => pick([...alphabet])).join('');
  }

  function randomValue(depth = 0): unknown {
    switch (int(depth > 2 ? 5 : 8)) {
      case 0: return null;
      case 1: return random() * 1e308 * (random() < 0.5 ? -1 : 1);
      case 2: return randomString(40);
      case 3: return random() < 0.5;
      case 4: return 'x'.repeat(int(3000));
      case 5: return Array.from({ length: int(4) }, () => randomValue(depth + 1));
      default: return Object.fromEntries(Array.from({ length: int(4) }, () => [randomString(8), randomValue(depth + 1)]));
    }
  }

  /** One hostile frame: bad JSON, wrong types, huge ids, unknown types, binary, oversize, duplicates. */
  function randomFrame(usedIds: string[]): string | Buffer | Record<string, unknown> {
    const id = random() < 0.3 && usedIds.length > 0 ? pick(usedIds) : random() < 0.1 ? 'i'.repeat(5000) : `op-${int(1e6)}`;
    switch (int(12)) {
      case 0: return randomString(200); // not JSON
      case 1: return JSON.stringify(randomValue()); // JSON, not a message
      case 2: return Buffer.from(Array.from({ length: int(512) }, () => int(256))); // binary frame
      case 3: return { type: pick(['connection_init', 'ping', 'pong', 'complete', 'subscribe', 'nope', '', 42, null]), payload: randomValue(), id: random() < 0.5 ? id : randomValue() };
      case 4: return { type: 'subscribe', id, payload: { query: pick(VALID_QUERIES), variables: randomValue() } };
      case 5: usedIds.push(id); return { type: 'subscribe', id, payload: { query: pick(VALID_QUERIES) } };
      case 6: return { type: 'subscribe', id, payload: { query: randomString(300) } };
      case 7: return { type: 'subscribe', id, payload: randomValue() };
      case 8: return { type: 'complete', id };
      case 9: return 'x'.repeat(MAX_PAYLOAD + int(1000) + 1); // oversize
      case 10: return { type: 'connection_init', payload: randomValue() }; // repeated init
      default: return { type: pick(['ping', 'pong']), payload: randomValue() };
    }
  }

  it('gives every hostile connection a documented close code or answer, and keeps serving a good client', async () => {
    const good = connectWs(app, bearer(author.token));
    sockets.push(good);
    const goodSub = new Subscription(good.client, 'subscription($postId: ID!) { postUpdated(postId: $postId) { post { title } } }', { postId });
    await waitForStreams(app, 'postUpdated', 1, 10_000);

    const closeCodes = new Map<number, number>();
    const answers = new Map<string, number>();
    let frames = 0;
    for (let c = 0; c < CONNECTIONS; c++) {
      const raw = new RawSocket(app.wsUrl);
      await raw.opened;
      // Most connections start with a proper init, so the fuzz reaches past the handshake.
      if (random() < 0.7) raw.send({ type: 'connection_init', payload: random() < 0.8 ? bearer(author.token) : randomValue() });
      const usedIds: string[] = [];
      for (let f = 0; f < FRAMES_PER_CONNECTION && raw.ws.readyState === raw.ws.OPEN; f++) {
        raw.send(randomFrame(usedIds));
        frames++;
      }
      // Let the server answer, bounded: a closed socket or 300 ms of answers, whichever first.
      const outcome = await Promise.race([raw.closed, new Promise<null>((r) => setTimeout(() => r(null), 300))]);
      if (outcome) closeCodes.set(outcome.code, (closeCodes.get(outcome.code) ?? 0) + 1);
      for (const frame of raw.frames) answers.set(String(frame.type), (answers.get(String(frame.type)) ?? 0) + 1);
      if (!outcome) raw.terminate();
    }
    console.info('fuzz frames', { seed: SEED, connections: CONNECTIONS, frames, closeCodes: Object.fromEntries(closeCodes), answers: Object.fromEntries(answers) });
    for (const code of closeCodes.keys()) expect(DOCUMENTED_CLOSE_CODES, `undocumented close code ${code}`).toContain(code);
    for (const type of answers.keys()) expect(ANSWER_TYPES, `unexpected frame type ${type}`).toContain(type);

    expect((await fetch(new URL('/health', app.httpUrl))).status).toBe(200);
    await gqlOk(app, 'mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }', { id: postId, input: { title: 'still here' } }, author.token);
    await goodSub.until((d) => d.postUpdated.post?.title === 'still here', 10_000);
  });

  it('answers random GraphQL documents with coded errors or data, never a 5xx', async () => {
    const words = ['query', 'mutation', 'subscription', 'fragment', 'on', '{', '}', '(', ')', ':', '$v', '!', '...', '@include', 'health', 'status', 'posts', 'post', 'edges', 'node', 'id', 'title', 'me', 'author', '__typename', '__schema', 'types', 'name', '"s"', '1', 'true', 'null', '[', ']', 'login', 'email', 'a:', 'b:'];
    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();
    for (let i = 0; i < DOCUMENTS; i++) {
      const doc = random() < 0.5 ? Array.from({ length: 1 + int(40) }, () => pick(words)).join(' ') : `{ ${Array.from({ length: 1 + int(6) }, () => pick(['health { status }', 'me { id }', 'posts { edges { node { id } } }', '__typename', 'post(id: "1") { id }', 'nope'])).join(' ')} }`;
      const result = await gql(app, doc, random() < 0.3 ? (randomValue() as Record<string, unknown>) ?? {} : {}, random() < 0.5 ? author.token : undefined);
      statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
      for (const error of result.errors ?? []) codes.set(String(error.extensions?.code), (codes.get(String(error.extensions?.code)) ?? 0) + 1);
      expect(result.status, doc).toBeLessThan(500);
      for (const error of result.errors ?? []) expect(error.extensions?.code, `${doc}: ${error.message}`).toBeTypeOf('string');
    }
    console.info('fuzz documents', { seed: SEED, documents: DOCUMENTS, statuses: Object.fromEntries(statuses), codes: Object.fromEntries(codes) });
  });
  /** POSTs `body` to /graphql, declaring its length or (`chunked`) sending it in pieces without one. */
  function post(body: string, chunked: boolean): Promise<{ status: number; json: { data?: unknown; errors?: { extensions?: { code?: string } }[] } }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (!chunked) headers['content-length'] = String(Buffer.byteLength(body));
      const req = httpRequest(new URL('/graphql', app.httpUrl), { method: 'POST', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      });
      // A server that refuses before reading everything may reset the rest of the upload.
      req.on('error', reject);
      if (chunked) for (let i = 0; i < body.length; i += 8192) req.write(body.slice(i, i + 8192));
      req.end(chunked ? undefined : body);
    });
  }

  /** A `{ health }` query padded with a variable to exactly `bytes` bytes of JSON. */
  const paddedQuery = (bytes: number) => {
    const shell = JSON.stringify({ query: '{ health { status } }', variables: { pad: '' } });
    return JSON.stringify({ query: '{ health { status } }', variables: { pad: 'x'.repeat(bytes - shell.length) } });
  };

  it.each([
    ['declared by Content-Length', false],
    ['sent chunked, without one', true],
  ])('refuses a request body over HTTP_MAX_BODY_BYTES %s (413, REQUEST_ENTITY_TOO_LARGE) and takes one at the bound', async (_how, chunked) => {
    const over = await post(paddedQuery(MAX_BODY + 1), chunked);
    expect(over.status).toBe(413);
    expect(over.json.errors?.[0]?.extensions?.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    const at = await post(paddedQuery(MAX_BODY), chunked);
    expect(at.status).toBe(200);
    expect(at.json.data).toEqual({ health: { status: expect.any(String) } });
  });
});
