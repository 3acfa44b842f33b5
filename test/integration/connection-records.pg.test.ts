import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../helpers/backends.js';
import { backendAvailable, createTestBackend, type TestBackend } from '../helpers/test-app.js';
import { ConnectionRecords } from '../../src/modules/connections/connection-records.js';
import type { SqlQuery } from '../../src/data/sql-query.js';

const ROWS = 600;
const ROUNDS = 3;

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// PostgreSQL only: PGlite is one connection, so its statements never wait on each other's row locks.
describe.runIf(backendAvailable() && backend === 'services')('connection records on PostgreSQL under a disconnect storm', () => {
  let base: TestBackend;
  let pool: pg.Pool;

  beforeAll(async () => {
    base = await createTestBackend();
    pool = new pg.Pool({ connectionString: base.env.DATABASE_URL, max: 8 });
    // Dropping the database at the end terminates idle clients the pool may still be closing.
    pool.on('error', () => undefined);
  });

  afterAll(async () => {
    await pool?.end();
    await base?.dispose();
  });

  it('closes batches and heartbeats over the same rows without a deadlock, and leaves no row open', async () => {
    // Every statement that PostgreSQL aborts as a deadlock victim is counted (the records retry them, which would hide it).
    let deadlocks = 0;
    const query: SqlQuery = async (text, values) => {
      try {
        return (await pool.query(text, [...values])).rows as Record<string, unknown>[];
      } catch (error) {
        if ((error as { code?: unknown }).code === '40P01') deadlocks += 1;
        throw error;
      }
    };
    const warnings: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const records = new ConnectionRecords(query, logger);
    const instanceId = `deadlock-${randomUUID()}`;

    for (let round = 0; round < ROUNDS; round++) {
      const ids = Array.from({ length: ROWS }, () => randomUUID());
      await Promise.all(ids.map((id) => records.opened({ id, userId: null, instanceId, ip: '127.0.0.1', userAgent: null, connectedAt: new Date() })));
      // A heartbeat's lastSeenAt write over every row while batches of closes (in another order) finalise them,
      // as when a deploy or a network blip drops every socket between two heartbeats.
      const order = shuffled(ids);
      const writes: Promise<void>[] = [];
      for (let batch = 0; batch < 4; batch++) {
        writes.push(records.markSeen(shuffled(ids), Date.now()));
        for (const id of order.slice((batch * ROWS) / 4, ((batch + 1) * ROWS) / 4)) writes.push(records.closed(id, 1001, 'going away', Date.now()));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(writes);
    }
    await records.settle();

    const open = await pool.query('SELECT count(*)::int AS n FROM "WebSocketConnection" WHERE "instanceId" = $1 AND "closedAt" IS NULL', [instanceId]);
    expect({ deadlocks, warnings, open: open.rows[0].n }).toEqual({ deadlocks: 0, warnings: [], open: 0 });
  });
});
