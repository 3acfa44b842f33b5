import { describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { ConnectionRecords } from '../../src/modules/connections/connection-records.js';

describe('connection records', () => {
  it('writes a batch again when PostgreSQL picked it as a deadlock victim, so no record stays open', async () => {
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    // Each statement is the victim once: the heartbeat's lastSeenAt update, then a batch of closes (the error as a cause).
    const victims = new Set(['lastSeenAt', 'closeCode']);
    const query = vi.fn((sql: string) => {
      const victim = [...victims].find((column) => sql.includes(`"${column}" = `));
      if (victim === undefined) return Promise.resolve([]);
      victims.delete(victim);
      return Promise.reject(victim === 'lastSeenAt' ? deadlock : { cause: deadlock });
    });
    const logger = pino({ level: 'silent' });
    const warn = vi.spyOn(logger, 'warn');
    const records = new ConnectionRecords(query, logger);

    await records.markSeen(['a', 'b'], Date.now());
    await records.closed('a', 1000, 'bye', null);
    await records.settle();

    expect(query).toHaveBeenCalledTimes(4);
    expect(query.mock.calls.filter(([sql]) => String(sql).includes('"lastSeenAt" = $2'))).toHaveLength(2);
    expect(query.mock.calls.filter(([sql]) => String(sql).includes('"closeCode" = t.code'))).toHaveLength(2);
    expect(warn).not.toHaveBeenCalled();
  });

  it('gives up (and says so) on an error that is not a deadlock', async () => {
    const query = vi.fn().mockRejectedValue(new Error('relation does not exist'));
    const logger = pino({ level: 'silent' });
    const warn = vi.spyOn(logger, 'warn');
    await new ConnectionRecords(query, logger).markSeen(['a'], Date.now());
    expect(query).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
