import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../helpers/backends.js';
import { backendAvailable, createTestBackend, startTestApp, type TestApp, type TestBackend } from '../helpers/test-app.js';
import { bearer, connectWs, Subscription, type WsHandle } from '../helpers/clients.js';
import { registerUser, type TestUser } from '../helpers/users.js';
import { startHeraldProcess, type HeraldProcess } from '../helpers/processes.js';
import { ConnectionCleanupService } from '../../src/modules/connections/cleanup.service.js';

const LIMITS = { WS_MAX_CONNECTIONS_PER_USER: '2', WS_HEARTBEAT_INTERVAL: '1s' };
const HEALTH = 'subscription { health(intervalSeconds: 1) { status } }';

/** Opens a socket and resolves with its close code, or null once it is acknowledged and serving. */
async function connectOutcome(url: string, token: string): Promise<{ code: number | null; ws: WsHandle }> {
  const ws = connectWs({ wsUrl: url }, bearer(token));
  const sub = new Subscription(ws.client, HEALTH);
  const outcome = await Promise.race([sub.next(10_000).then(() => null), ws.closed.then((c) => c.code)]);
  return { code: outcome, ws };
}

// Needs two instances on one database and Redis: PostgreSQL + Redis only (PGlite is single-process).
describe.runIf(backend === 'services' && backendAvailable())('an instance killed with SIGKILL', () => {
  let shared: TestBackend;
  let crashing: HeraldProcess;
  let survivor: TestApp;
  let user: TestUser;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    shared = await createTestBackend();
    [crashing, survivor] = await Promise.all([startHeraldProcess(shared, LIMITS), startTestApp(LIMITS, shared)]);
    user = await registerUser(survivor, 'crashed');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await crashing?.stop(1000);
    await survivor?.stop();
    await shared?.dispose();
  });

  it('frees its connection slots by themselves and leaves records that cleanup finalises', async () => {
    for (let i = 0; i < 2; i++) {
      const { code, ws } = await connectOutcome(crashing.wsUrl, user.token);
      sockets.push(ws);
      expect(code).toBeNull();
    }
    // The cap holds across instances: the survivor refuses a third connection.
    const refused = await connectOutcome(survivor.wsUrl, user.token);
    expect(refused.code).toBe(4008);

    crashing.kill('SIGKILL');
    await crashing.waitForExit();

    // Its slots lapse without anyone cleaning up (TTL refreshed only by the dead instance's heartbeat).
    const deadline = Date.now() + 40_000;
    let admitted: { code: number | null; ws: WsHandle } | null = null;
    while (Date.now() < deadline) {
      const attempt = await connectOutcome(survivor.wsUrl, user.token);
      sockets.push(attempt.ws);
      if (attempt.code === null) {
        admitted = attempt;
        break;
      }
      expect(attempt.code).toBe(4008);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(admitted, 'a slot should free itself after the instance died').not.toBeNull();
    await admitted?.ws.dispose();

    // The dead instance's records are still open; cleanup (as if run a minute later) finalises them.
    const db = survivor.app.runtime.db;
    const orphaned = await db.webSocketConnection.findMany({ where: { userId: user.id, closedAt: null, instanceId: { not: survivor.app.config.instanceId } } });
    expect(orphaned).toHaveLength(2);
    const cleanup = new ConnectionCleanupService(db, survivor.app.logger);
    const result = await cleanup.run({ retentionMs: 86_400_000, staleAfterMs: 30_000, now: new Date(Date.now() + 60_000) });
    expect(result.skipped).toBe(false);
    expect(result.finalised).toBeGreaterThanOrEqual(2);
    const after = await db.webSocketConnection.findMany({ where: { id: { in: orphaned.map((r) => r.id) } } });
    expect(after.every((r) => r.closedAt !== null && r.closeCode === 1006)).toBe(true);
  }, 90_000);
});
