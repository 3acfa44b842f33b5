import { describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { ConnectionRecords } from '../../src/modules/connections/connection-records.js';
import type { PrismaClient } from '../../src/data/db.js';

describe('connection records', () => {
  it('writes a batch again when PostgreSQL picked it as a deadlock victim, so no record stays open', async () => {
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    // What Prisma throws for the same abort (seen in the soak): P2034, no PostgreSQL code.
    const prismaDeadlock = Object.assign(new Error('Transaction failed due to a write conflict or a deadlock. Please retry your transaction'), { code: 'P2034' });
    const updateMany = vi.fn().mockRejectedValueOnce(prismaDeadlock).mockResolvedValue({ count: 2 });
    const executeRaw = vi.fn().mockRejectedValueOnce({ cause: deadlock }).mockResolvedValue(1);
    const db = { webSocketConnection: { updateMany }, $executeRaw: executeRaw } as unknown as PrismaClient;
    const logger = pino({ level: 'silent' });
    const warn = vi.spyOn(logger, 'warn');
    const records = new ConnectionRecords(db, logger);

    await records.markSeen(['a', 'b'], Date.now());
    await records.closed('a', 1000, 'bye', null);
    await records.settle();

    expect(updateMany).toHaveBeenCalledTimes(2);
    expect(executeRaw).toHaveBeenCalledTimes(2);
    expect(warn).not.toHaveBeenCalled();
  });

  it('gives up (and says so) on an error that is not a deadlock', async () => {
    const updateMany = vi.fn().mockRejectedValue(new Error('relation does not exist'));
    const db = { webSocketConnection: { updateMany } } as unknown as PrismaClient;
    const logger = pino({ level: 'silent' });
    const warn = vi.spyOn(logger, 'warn');
    await new ConnectionRecords(db, logger).markSeen(['a'], Date.now());
    expect(updateMany).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
