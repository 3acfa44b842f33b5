import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { createPost, registerStaff, registerUser, type TestUser } from '../helpers/users.js';
import { acknowledged, eventually, openAcknowledged, rawSocket, upgradeStatus, within } from '../helpers/connections.js';

/** A failure as text: the client hands errors over as Error objects whose message holds the JSON. */
const describe_ = (failure: unknown): string => (failure instanceof Error ? failure.message : JSON.stringify(failure));

const HEALTH_SUB = 'subscription { health(intervalSeconds: 300) { status } }';
const STATS = `query($top: Int) { connectionStats(topUsers: $top) {
  totalConnections totalSubscriptions instances { instanceId connections } topUsers { userId connections } subscriptions { field count } } }`;

describe.runIf(backendAvailable())('WebSocket connections on one instance', () => {
  let app: TestApp;
  let user: TestUser;
  let staff: TestUser;
  const sockets: WsHandle[] = [];
  const track = (ws: WsHandle) => (sockets.push(ws), ws);

  beforeAll(async () => {
    app = await startTestApp({
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2',
      WS_MAX_OPERATIONS_PER_SECOND: '5',
      WS_MAX_PAYLOAD_BYTES: '4096',
      ALLOWED_ORIGINS: 'https://app.example',
    });
    user = await registerUser(app, 'conn');
    staff = await registerStaff(app);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  it('writes a record when a connection opens and finalises it with the close code', async () => {
    const ws = track(await openAcknowledged(app, user.token));
    const db = app.app.runtime.db;
    const open = await db.webSocketConnection.findMany({ where: { userId: user.id, closedAt: null } });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ instanceId: app.app.config.instanceId, ip: '127.0.0.1' });
    await ws.dispose();
    const closed = await eventually(async () => {
      const row = await db.webSocketConnection.findUnique({ where: { id: open[0]!.id } });
      return row?.closedAt ? row : undefined;
    }, 'the record to be finalised');
    expect(closed.closeCode).toBe(1000);
  });

  it('closes the 11th concurrent connection of a user with 4008, and a closed one frees its slot at once', async () => {
    const capped = await registerUser(app, 'capped');
    const ten = await Promise.all(Array.from({ length: 10 }, () => openAcknowledged(app, capped.token).then(track)));
    const eleventh = track(connectWs(app, bearer(capped.token)));
    const refused = await within(eleventh.closed, 5000, 'the 11th close');
    expect(refused.code).toBe(4008);
    expect(refused.reason).toMatch(/at most 10/);

    // Another user is not affected by this user's cap.
    track(await openAcknowledged(app, user.token));

    const leaving = ten[0]!;
    await leaving.dispose();
    await eventually(async () => (await app.app.runtime.db.webSocketConnection.count({ where: { userId: capped.id, closedAt: null } })) === 9, 'the slot to free');
    track(await openAcknowledged(app, capped.token));
  });

  it('refuses a browser Origin outside ALLOWED_ORIGINS with 403 before any GraphQL, and accepts a listed one', async () => {
    expect(await upgradeStatus(app, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(app, { origin: 'https://app.example' })).toBe(101);
  });

  it('closes a connection that sends a message above WS_MAX_PAYLOAD_BYTES with 1009', async () => {
    const raw = rawSocket(app);
    await new Promise((resolve) => raw.socket.once('open', resolve));
    raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } }));
    await new Promise((resolve) => raw.socket.once('message', resolve));
    raw.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ health { status } } # ${'x'.repeat(5000)}` } }));
    expect((await within(raw.closed, 5000, 'the 1009 close')).code).toBe(1009);
  });

  it('refuses a subscription above WS_MAX_SUBSCRIPTIONS_PER_CONNECTION with RATE_LIMITED, and allows one after another completes', async () => {
    const ws = track(await openAcknowledged(app, user.token));
    const first = new Subscription(ws.client, HEALTH_SUB);
    const second = new Subscription(ws.client, HEALTH_SUB);
    await first.next();
    await second.next();
    const third = new Subscription(ws.client, HEALTH_SUB);
    const error = describe_(await third.failure());
    expect(error).toContain('RATE_LIMITED');
    expect(error).toContain('subscriptionsPerConnection');
    first.stop();
    // The completion reaches the server asynchronously: retry (bounded) until a slot is free again.
    await eventually(async () => {
      const again = new Subscription(ws.client, HEALTH_SUB);
      const result = await again.next().catch((e: unknown) => ({ errors: [String(e)] }));
      if (result.errors) return undefined;
      return again;
    }, 'a free subscription slot');
    second.stop();
  });

  it('refuses operations above WS_MAX_OPERATIONS_PER_SECOND with RATE_LIMITED and retryAfterMs', async () => {
    const ws = track(await openAcknowledged(app, user.token));
    const results = await Promise.all(
      Array.from({ length: 12 }, () => new Promise<unknown>((resolve) => {
        const sub = new Subscription(ws.client, '{ health { status } }');
        void sub.next().then(resolve, resolve);
      })),
    );
    const limited = results.map(describe_).filter((r) => r.includes('RATE_LIMITED'));
    expect(limited.length).toBeGreaterThanOrEqual(12 - 5 - 1);
    expect(limited[0]).toMatch(/"retryAfterMs":\d+/);
    expect(limited[0]).toContain('operationsPerSecond');
  });

  it('reports connectionStats to staff only: totals, instances, top users and subscriptions by field', async () => {
    const ws = track(await openAcknowledged(app, staff.token));
    const sub = new Subscription(ws.client, HEALTH_SUB);
    await sub.next();
    const data = await gqlOk(app, STATS, { top: 5 }, staff.token);
    const stats = data.connectionStats;
    expect(stats.totalConnections).toBeGreaterThanOrEqual(2);
    expect(stats.instances).toEqual([{ instanceId: app.app.config.instanceId, connections: stats.totalConnections }]);
    expect(stats.topUsers.length).toBeLessThanOrEqual(5);
    expect(stats.subscriptions).toContainEqual({ field: 'health', count: expect.any(Number) });
    const denied = await gql(app, STATS, {}, user.token);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await gql(app, STATS, { top: 0 }, staff.token);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    sub.stop();
  });

  it('serves Prometheus metrics on GET /metrics, including delivery of a published event', async () => {
    const postId = await createPost(app, staff);
    const ws = track(await openAcknowledged(app, user.token));
    const sub = new Subscription(ws.client, 'subscription($postId: ID!) { postUpdated(postId: $postId) { post { title } } }', { postId });
    await eventually(() => app.app.runtime.pubsub.openStreams('postUpdated') >= 1, 'the postUpdated subscriber');
    await gqlOk(app, 'mutation($id: ID!) { updatePost(id: $id, input: { title: "Metered" }) { id } }', { id: postId }, staff.token);
    await sub.until((d) => d.postUpdated.post.title === 'Metered');
    sub.stop();
    const response = await fetch(`http://127.0.0.1:${app.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const name of [
      'herald_ws_connections_open',
      'herald_ws_subscriptions_active',
      'herald_ws_closes_total',
      'herald_ws_auth_failures_total',
      'herald_events_delivered_total',
      'herald_event_delivery_latency_seconds_bucket',
      'herald_events_dropped_total',
      'herald_ws_operations_rejected_total',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/herald_ws_closes_total\{[^}]*code="4008"[^}]*\} [1-9]/);
    expect(text).toMatch(/herald_ws_connections_open\{[^}]*\} [1-9]/);
    expect(text).toMatch(/herald_events_delivered_total\{[^}]*topic="postUpdated"[^}]*\} [1-9]/);
    expect(text).toMatch(/herald_event_delivery_latency_seconds_count\{[^}]*topic="postUpdated"[^}]*\} [1-9]/);
  });

  it('counts a bad token as an auth failure and closes with 4403', async () => {
    const ws = connectWs(app, bearer('not-a-token'));
    expect((await within(ws.closed, 5000, 'the 4403 close')).code).toBe(4403);
    const text = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    expect(text).toMatch(/herald_ws_auth_failures_total\{[^}]*reason="invalid_token"[^}]*\} [1-9]/);
  });
});

describe.runIf(backendAvailable())('WebSocket timeouts', () => {
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    app = await startTestApp({ WS_CONNECTION_TIMEOUT: '1s', WS_INIT_TIMEOUT: '1s', JWT_ACCESS_TTL: '3s' });
    user = await registerUser(app, 'timeouts');
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('closes a connection silent for WS_CONNECTION_TIMEOUT with 4410 and finalises its record', async () => {
    const ws = connectWs(app, bearer(user.token));
    await acknowledged(ws);
    const closed = await within(ws.closed, 5000, 'the idle close');
    expect(closed.code).toBe(4410);
    await eventually(async () => (await app.app.runtime.db.webSocketConnection.count({ where: { userId: user.id, closedAt: null } })) === 0, 'the record to be finalised');
    const row = await app.app.runtime.db.webSocketConnection.findFirst({ where: { userId: user.id, closeCode: 4410 } });
    expect(row?.closeReason).toBe('Idle timeout');
  });

  it('closes a socket that never sends connection_init with 4408', async () => {
    const raw = rawSocket(app);
    expect((await within(raw.closed, 5000, 'the init timeout close')).code).toBe(4408);
  });

  it('closes a live socket with 4403 when its access token expires', async () => {
    // A fresh token (3 s lifetime); the client pings so the idle timeout does not fire first.
    const fresh = await registerUser(app, 'expiring');
    const ws = connectWs(app, bearer(fresh.token));
    await acknowledged(ws);
    const ping = setInterval(() => void ws.client.subscribe({ query: '{ __typename }' }, { next: () => undefined, error: () => undefined, complete: () => undefined }), 300);
    try {
      const closed = await within(ws.closed, 8000, 'the token expiry close');
      expect(closed.code).toBe(4403);
      expect(closed.reason).toMatch(/expired/i);
    } finally {
      clearInterval(ping);
    }
  });
});
