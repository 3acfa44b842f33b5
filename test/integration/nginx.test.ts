import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, isCi } from '../helpers/backends.js';
import { backendAvailable, createTestBackend, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { bearer, gqlOk, Subscription } from '../helpers/clients.js';
import { eventually, within } from '../helpers/connections.js';
import { createPost, registerUser, type TestUser } from '../helpers/users.js';
import { startHeraldProcesses, type HeraldProcess } from '../helpers/processes.js';
import { waitForChannelSubscribers } from '../helpers/redis-channels.js';
import { nginxBinary, startNginx, type NginxHandle } from '../helpers/nginx.js';
import { topics } from '../../src/realtime/topics.js';
import { subscribeResumable } from '../../examples/lib/resumable.js';

const hasNginx = nginxBinary() !== null;
if (!hasNginx && isCi() && backend === 'services') throw new Error('CI=true but nginx is not installed (.ci/run installs it: apt-get install -y nginx)');

const POST_UPDATED = 'subscription($id: ID!) { postUpdated(postId: $id) { post { title } } }';
const UPDATE = 'mutation($id: ID!, $title: String!) { updatePost(id: $id, input: { title: $title }) { id } }';
const RESUMABLE = 'subscription($id: ID!, $after: String) { postUpdated(postId: $id, after: $after) { eventId post { title } } }';

// The test's clients connect to nginx from 127.0.0.2 (any 127/8 address is the loopback on Linux) while
// nginx reaches Herald from 127.0.0.1: a record showing 127.0.0.2 shows the client, not the proxy.
const CLIENT_ADDRESS = '127.0.0.2';
// What a client claims to be; nginx appends the real peer, and Herald must believe only that.
const FORGED = '203.0.113.7';

class WebSocketFromClient extends WebSocket {
  constructor(address: string | URL, protocols?: string | string[]) {
    super(address, protocols, { localAddress: CLIENT_ADDRESS, headers: { 'x-forwarded-for': FORGED } });
  }
}

interface ProxiedClient {
  readonly client: Client;
  /** connection_ack payloads in order (one more per reconnect). */
  readonly acks: { instanceId: string; connectionId: string }[];
  readonly closeCodes: number[];
}

/** One metric series of each instance, read from its /metrics (0 when absent). */
async function metric(procs: readonly HeraldProcess[], name: string, label: string): Promise<number[]> {
  return Promise.all(
    procs.map(async (p) => {
      const text = await (await fetch(`${p.baseUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    }),
  );
}

describe.runIf(backend === 'services' && backendAvailable() && hasNginx)('deploy/nginx.conf in front of two Herald processes', () => {
  let shared: TestBackend;
  let procs: HeraldProcess[];
  let proxy: NginxHandle;
  let author: TestUser;
  let reader: TestUser;
  const clients: Client[] = [];
  const viaProxy = () => ({ httpUrl: proxy.httpUrl, wsUrl: proxy.wsUrl }) as unknown as TestApp;

  beforeAll(async () => {
    shared = await createTestBackend();
    procs = await startHeraldProcesses(2, shared, { TRUSTED_PROXIES: '127.0.0.1', WS_MAX_CONNECTIONS_PER_USER: '50' });
    proxy = await startNginx({ upstreams: procs.map((p) => `127.0.0.1:${p.port}`) });
    [author, reader] = await Promise.all([registerUser(viaProxy(), 'ngx_author'), registerUser(viaProxy(), 'ngx_reader')]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await proxy?.stop();
    await Promise.all((procs ?? []).map((p) => p.stop()));
    await shared?.dispose();
  });

  function proxiedClient(token: string, reconnect = false): ProxiedClient {
    const acks: ProxiedClient['acks'] = [];
    const closeCodes: number[] = [];
    const client = createClient({
      url: proxy.wsUrl,
      webSocketImpl: WebSocketFromClient,
      connectionParams: bearer(token),
      lazy: false,
      retryAttempts: reconnect ? 10 : 0,
      retryWait: () => new Promise((r) => setTimeout(r, 100)),
      shouldRetry: () => reconnect,
      onNonLazyError: () => undefined,
      on: {
        connected: (_socket, payload) => acks.push(payload as { instanceId: string; connectionId: string }),
        closed: (event) => closeCodes.push((event as { code: number }).code),
      },
    });
    clients.push(client);
    return { client, acks, closeCodes };
  }

  /** Opens clients through nginx until at least `perInstance` are served by each instance. */
  async function clientsOnBothInstances(perInstance: number, reconnect = false): Promise<ProxiedClient[]> {
    const opened: ProxiedClient[] = [];
    const served = (id: string) => opened.filter((c) => c.acks[0]?.instanceId === id).length;
    const ids = await Promise.all(procs.map(async (p) => (await gqlOk(p as unknown as TestApp, '{ health { instanceId } }')).health.instanceId as string));
    for (let i = 0; i < perInstance * 6 && !ids.every((id) => served(id) >= perInstance); i++) {
      const c = proxiedClient(reader.token, reconnect);
      await eventually(() => c.acks.length > 0, 'connection_ack through nginx', 10_000);
      opened.push(c);
    }
    expect(ids.map(served).every((n) => n >= perInstance)).toBe(true);
    return opened;
  }

  /** Every subscription is live: each instance SUBSCRIBEd the channel and together they hold `streams` streams. */
  async function live(postId: string, streams: number, over: readonly HeraldProcess[] = procs): Promise<void> {
    await waitForChannelSubscribers(shared.env.REDIS_URL as string, shared.env.REDIS_PREFIX as string, topics.postUpdated(postId), over.length);
    const open = async () => (await metric(over, 'herald_pubsub_streams_open', 'topic="postUpdated"')).reduce((a, b) => a + b, 0);
    await eventually(async () => (await open()) === streams, `${streams} postUpdated streams`, 10_000);
  }

  it('spreads graphql-ws clients over both instances; each gets the events written through nginx on either', async () => {
    const postId = await createPost(viaProxy(), author);
    const opened = await clientsOnBothInstances(2);
    const subs = opened.map((c) => new Subscription(c.client, POST_UPDATED, { id: postId }));
    await live(postId, subs.length);

    // Writes through nginx until each instance has published at least one of them.
    const before = await metric(procs, 'herald_events_published_total', 'topic="postUpdated"');
    const titles: string[] = [];
    for (let i = 0; i < 8; i++) {
      const published = await metric(procs, 'herald_events_published_total', 'topic="postUpdated"');
      if (published.every((n, k) => n > (before[k] ?? 0))) break;
      titles.push(`through nginx ${i}`);
      await gqlOk(viaProxy(), UPDATE, { id: postId, title: titles.at(-1) }, author.token);
    }
    const after = await metric(procs, 'herald_events_published_total', 'topic="postUpdated"');
    expect(after.every((n, k) => n > (before[k] ?? 0)), `published per instance ${before} -> ${after}`).toBe(true);
    for (const sub of subs) for (const title of titles) await sub.until((d) => d.postUpdated.post.title === title, 10_000);
    for (const sub of subs) sub.stop();

    // The records carry the client's address as nginx saw it: not nginx's, and not the forged header.
    const db = new pg.Client({ connectionString: shared.env.DATABASE_URL });
    await db.connect();
    try {
      const ids = opened.map((c) => c.acks[0]?.connectionId);
      const rows = await eventually(async () => {
        const result = await db.query<{ id: string; ip: string | null }>('SELECT id, ip FROM "WebSocketConnection" WHERE id = ANY($1)', [ids]);
        return result.rows.length === ids.length ? result.rows : undefined;
      }, 'connection records', 10_000);
      expect(rows.map((r) => r.ip)).toEqual(ids.map(() => CLIENT_ADDRESS));
    } finally {
      await db.end();
    }
  });

  it('passes an SSE subscription through unbuffered and uncompressed: its event arrives while the stream stays open', async () => {
    const postId = await createPost(viaProxy(), author);
    const controller = new AbortController();
    try {
      const response = await fetch(proxy.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'accept-encoding': 'gzip', authorization: `Bearer ${reader.token}` },
        body: JSON.stringify({ query: POST_UPDATED, variables: { id: postId } }),
        signal: controller.signal,
      });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      // Yoga marks its streams `Content-Encoding: none`; gzip would have replaced that with `gzip`.
      expect(response.headers.get('content-encoding') ?? 'none').toBe('none');
      await waitForChannelSubscribers(shared.env.REDIS_URL as string, shared.env.REDIS_PREFIX as string, topics.postUpdated(postId));
      await gqlOk(viaProxy(), UPDATE, { id: postId, title: 'over SSE through nginx' }, author.token);
      // Read until the event: with buffering on, nginx would hold it until its buffer filled.
      const decoder = new TextDecoder();
      let text = '';
      const body = (response.body as ReadableStream<Uint8Array>).getReader();
      await within(
        (async () => {
          while (!text.includes('over SSE through nginx')) {
            const { value, done } = await body.read();
            if (done) throw new Error(`stream ended: ${text}`);
            text += decoder.decode(value, { stream: true });
          }
        })(),
        5000,
        'the SSE event through nginx',
      );
      expect(text).toMatch(/event: next\ndata: .*over SSE through nginx/);
    } finally {
      controller.abort();
    }
  });

  it('moves the clients of an instance stopped with SIGTERM: closed with 1001, back through nginx on the other, missing no event written meanwhile', async () => {
    const postId = await createPost(viaProxy(), author);
    const opened = await clientsOnBothInstances(2, true);
    // Each client resumes after its last event when it comes back (docs/clients.md "Resuming").
    const received = opened.map(() => [] as string[]);
    const failures: unknown[] = [];
    const stops = opened.map((c, i) =>
      subscribeResumable<{ data?: { postUpdated: { eventId: string } } | null; errors?: unknown }>(
        c.client,
        { query: RESUMABLE, variables: { id: postId } },
        { next: (result) => (result.data ? received[i]!.push(result.data.postUpdated.eventId) : failures.push(result.errors)), error: (error) => failures.push(error), complete: () => undefined },
      ),
    );
    await live(postId, opened.length);
    const [stopping, staying] = procs as [HeraldProcess, HeraldProcess];
    const stoppingId = (await gqlOk(stopping as unknown as TestApp, '{ health { instanceId } }')).health.instanceId as string;
    const moved = opened.filter((c) => c.acks[0]?.instanceId === stoppingId);

    // Writes keep coming (through the instance that stays) while the other drains, exits and its clients move.
    const writes = 30;
    const writing = (async () => {
      for (let i = 0; i < writes; i++) {
        await gqlOk(staying as unknown as TestApp, UPDATE, { id: postId, title: `during the drain ${i}` }, author.token);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await eventually(() => received.every((r) => r.length >= 3), 'the first events on every client', 10_000);
    stopping.kill('SIGTERM');
    expect((await stopping.waitForExit()).code).toBe(0);
    for (const c of moved) {
      await eventually(() => c.acks.length >= 2, 'a reconnect through nginx', 15_000);
      expect(c.closeCodes[0]).toBe(1001);
      expect(c.acks[1]?.instanceId).not.toBe(stoppingId);
    }
    await writing;
    await eventually(() => received.every((r) => r.length >= writes), 'every event on every client', 15_000);
    expect(failures).toEqual([]);
    for (const ids of received) {
      expect(ids).toHaveLength(writes);
      expect(new Set(ids).size).toBe(writes);
      expect([...ids].sort()).toEqual(ids);
    }
    for (const stop of stops) stop();
  }, 60_000);
});
