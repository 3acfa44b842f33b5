import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend, TEST_JWT_SECRET } from '../helpers/test-app.js';
import { backend } from '../helpers/backends.js';
import { bearer, connectWs, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { registerStaff, registerUser } from '../helpers/users.js';
import { eventually, openAcknowledged, within } from '../helpers/connections.js';

describe.runIf(backendAvailable())('graceful shutdown', () => {
  let shared: TestBackend | undefined;
  const apps: TestApp[] = [];

  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => undefined);
    await shared?.dispose();
  });

  it('closes every socket with 1001 on stop() and leaves no record open', async () => {
    shared = await createTestBackend();
    const first = await startTestApp({}, shared);
    apps.push(first);
    const user = await registerUser(first, 'drain');
    const sockets = await Promise.all(Array.from({ length: 4 }, () => openAcknowledged(first, user.token)));
    const sub = new Subscription(sockets[0]!.client, 'subscription { health(intervalSeconds: 300) { status } }');
    await sub.next();

    const stopped = first.app.stop();
    const codes = await within(Promise.all(sockets.map((s) => s.closed)), 5000, 'every close');
    expect(codes.map((c) => c.code)).toEqual([1001, 1001, 1001, 1001]);
    await within(stopped, 10_000, 'stop()');

    // The first app's database connection is gone: read the records through a second app on the same backend.
    const second = await startTestApp({}, shared);
    apps.push(second);
    const rows = await second.app.runtime.db.webSocketConnection.findMany({ where: { userId: user.id } });
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row.closedAt).not.toBeNull();
      expect(row.closeCode).toBe(1001);
    }
  }, 90_000);

  it('on SIGTERM closes sockets with 1001 and the process exits 0', async () => {
    const own = await createTestBackend();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, ...own.env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', JWT_SECRET: TEST_JWT_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await within(
        new Promise<number>((resolve) => {
          let buffered = '';
          child.stdout.on('data', (chunk: Buffer) => {
            buffered += chunk.toString();
            const match = /listening on http:\/\/localhost:(\d+)/.exec(buffered);
            if (match) resolve(Number(match[1]));
          });
        }),
        60_000,
        'the server to listen',
      );
      const server = { httpUrl: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql` };
      const user = await registerUser(server as TestApp, 'sigterm');
      const ws = await openAcknowledged(server, user.token);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect((await within(ws.closed, 5000, 'the 1001 close')).code).toBe(1001);
      expect(await within(exited, 15_000, 'the process to exit')).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await own.dispose();
    }
  }, 120_000);
});

// Two apps cannot open one PGlite directory, so the cross-instance cap runs on PostgreSQL + Redis only.
describe.runIf(backendAvailable() && backend === 'services')('per-user cap across two instances', () => {
  let shared: TestBackend;
  let a: TestApp;
  let b: TestApp;
  const sockets: WsHandle[] = [];

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await a?.stop();
    await b?.stop();
    await shared?.dispose();
  });

  it('closes the 11th connection with 4008 when ten are spread over two instances, and frees a slot on close', async () => {
    shared = await createTestBackend();
    a = await startTestApp({}, shared);
    b = await startTestApp({}, shared);
    const user = await registerUser(a, 'spread');
    const staff = await registerStaff(a);
    for (let i = 0; i < 10; i++) sockets.push(await openAcknowledged(i % 2 === 0 ? a : b, user.token));

    for (const app of [a, b]) {
      const extra = connectWs(app, bearer(user.token));
      sockets.push(extra);
      const refused = await within(extra.closed, 5000, 'the 4008 close');
      expect(refused.code).toBe(4008);
    }

    // connectionStats sees both instances (b's snapshot reaches Redis within ~100 ms of a change).
    const stats = await eventually(async () => {
      const data = await gqlOk(a, 'query { connectionStats { totalConnections instances { instanceId connections } topUsers { userId connections } } }', {}, staff.token);
      return data.connectionStats.totalConnections === 10 ? data.connectionStats : undefined;
    }, 'stats over both instances');
    expect(stats.instances).toHaveLength(2);
    expect(stats.instances.map((i: { connections: number }) => i.connections)).toEqual([5, 5]);
    expect(stats.topUsers[0]).toEqual({ userId: user.id, connections: 10 });

    // Closing one on b frees a slot that a can hand out at once.
    await sockets[1]!.dispose();
    await eventually(async () => (await a.app.runtime.db.webSocketConnection.count({ where: { userId: user.id, closedAt: null } })) === 9, 'the record to close');
    sockets.push(await openAcknowledged(a, user.token));
  });
});
