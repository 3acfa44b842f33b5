import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { registerUser, type TestUser } from '../helpers/users.js';

// The server pings every WS_HEARTBEAT_INTERVAL from one timer for all sockets and terminates a socket
// that has not answered the previous ping (a peer that vanished without closing).
describe.runIf(backendAvailable())('WebSocket keep-alive', () => {
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    // The idle timeout (1 s) is shorter than the test: only answered pings keep a quiet socket open.
    app = await startTestApp({ WS_HEARTBEAT_INTERVAL: '200ms', WS_CONNECTION_TIMEOUT: '1s' });
    user = await registerUser(app, 'keepalive');
  });

  afterAll(async () => {
    await app?.stop();
  });

  /** A graphql-ws connection, acknowledged; `answerPings: false` plays a peer that is gone. */
  async function connect(answerPings: boolean) {
    const ws = new WebSocket(app.wsUrl, 'graphql-transport-ws', { autoPong: answerPings });
    const pings: number[] = [];
    ws.on('ping', () => pings.push(Date.now()));
    const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() })));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } })));
      ws.on('message', (data) => {
        if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') resolve();
      });
      ws.once('error', reject);
    });
    return { ws, pings, closed };
  }

  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    const gone = await connect(false);
    const alive = await connect(true);
    const closed = await Promise.race([gone.closed, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    // Terminated (no close frame: the peer is presumed dead) after a ping went unanswered.
    expect(closed?.code).toBe(1006);
    expect(gone.pings.length).toBeGreaterThanOrEqual(1);
    // The answering socket outlives several more rounds (a round is 200 ms here).
    const seen = alive.pings.length;
    const deadline = Date.now() + 3000;
    while (alive.pings.length < seen + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive.pings.length).toBeGreaterThanOrEqual(seen + 3);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    alive.ws.close();
  });

  it('counts answered pings as activity: a quiet socket outlives WS_CONNECTION_TIMEOUT and its record shows when it was last seen', async () => {
    const quiet = await connect(true);
    const openedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2500));
    expect(quiet.ws.readyState).toBe(WebSocket.OPEN);
    quiet.ws.close(1000);
    const db = app.app.runtime.db;
    let row = await db.webSocketConnection.findFirst({ where: { userId: user.id, closeCode: 1000 } });
    for (let i = 0; !row && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      row = await db.webSocketConnection.findFirst({ where: { userId: user.id, closeCode: 1000 } });
    }
    expect(row).not.toBeNull();
    // The last pong came about 2.4 s after the socket opened; nothing but pongs marked it active.
    expect(row!.lastSeenAt.getTime() - row!.connectedAt.getTime()).toBeGreaterThan(1500);
    expect(row!.lastSeenAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(row!.connectedAt.getTime()).toBeLessThanOrEqual(openedAt + 50);
  });
});
