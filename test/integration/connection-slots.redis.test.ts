import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, testRedisUrl } from '../helpers/backends.js';
import { backendAvailable } from '../helpers/test-app.js';
import { RedisConnectionSlots } from '../../src/modules/connections/connection-slots.store.redis.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(backendAvailable() && backend === 'services')('RedisConnectionSlots: the cap and the heartbeat refresh', () => {
  let redis: Redis;
  const prefix = `herald-test-slots-${randomBytes(4).toString('hex')}:`;

  beforeAll(() => {
    redis = new Redis(testRedisUrl);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('keeps refreshed slots, lets the others lapse, and keeps the user keys alive', async () => {
    const slots = new RedisConnectionSlots(redis, prefix, 1000);
    for (const id of ['a1', 'a2', 'a3']) expect(await slots.acquire('ua', id, 3)).toBe(true);
    expect(await slots.acquire('ub', 'b1', 1)).toBe(true);
    await sleep(600);
    await slots.refresh([
      { userId: 'ua', connectionId: 'a1' },
      { userId: 'ub', connectionId: 'b1' },
      { userId: 'ua', connectionId: 'a2' },
    ]);
    await sleep(600);
    // a3 was not refreshed: its slot lapsed and frees a place; a1, a2 and b1 still hold theirs.
    expect(await slots.acquire('ua', 'a4', 3)).toBe(true);
    expect(await slots.acquire('ua', 'a5', 3)).toBe(false);
    expect(await slots.acquire('ub', 'b2', 1)).toBe(false);
    expect(await redis.pttl(`${prefix}ws:slots:{ub}`)).toBeGreaterThan(0);
  });

  it('holds the cap exactly for requests of two instances batched into the same moment', async () => {
    const a = new RedisConnectionSlots(redis, prefix, 60_000);
    const b = new RedisConnectionSlots(redis, prefix, 60_000);
    // Interleaved users with different caps, all within one batching window of each instance.
    const requests = Array.from({ length: 12 }, (_, i) => ({ slots: i % 2 ? a : b, userId: i % 3 ? 'capped' : 'roomy', id: `w${i}`, max: i % 3 ? 3 : 10 }));
    const granted = await Promise.all(requests.map(({ slots, userId, id, max }) => slots.acquire(userId, id, max)));
    const grantedTo = (userId: string) => requests.filter((r, i) => r.userId === userId && granted[i]).map((r) => r.id);
    expect(grantedTo('capped')).toHaveLength(3);
    expect(grantedTo('roomy')).toEqual(requests.filter((r) => r.userId === 'roomy').map((r) => r.id));
    expect((await redis.zrange(`${prefix}ws:slots:{capped}`, 0, -1)).sort()).toEqual(grantedTo('capped').sort());
    // The same connection asking again holds one slot, not two.
    expect(await a.acquire('capped', grantedTo('capped')[0]!, 3)).toBe(true);
    expect(await redis.zcard(`${prefix}ws:slots:{capped}`)).toBe(3);
  });

  it('fails a request Redis did not answer instead of refusing it as over the cap', async () => {
    const unreachable = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    unreachable.on('error', () => undefined);
    try {
      const slots = new RedisConnectionSlots(unreachable, prefix, 60_000);
      await expect(slots.acquire('u', 'c', 3)).rejects.toThrow();
    } finally {
      unreachable.disconnect();
    }
  });

  it('refreshes every user of a heartbeat larger than one pipeline', async () => {
    const slots = new RedisConnectionSlots(redis, prefix, 60_000);
    const users = Array.from({ length: 2500 }, (_, i) => `many${i}`);
    await Promise.all(users.map((userId) => slots.acquire(userId, `c-${userId}`, 5)));
    const before = Date.now();
    await sleep(20);
    await slots.refresh(users.map((userId) => ({ userId, connectionId: `c-${userId}` })));
    const scores = await Promise.all(users.map((userId) => redis.zscore(`${prefix}ws:slots:{${userId}}`, `c-${userId}`)));
    expect(scores.filter((score) => Number(score) < before + 60_000 + 20)).toEqual([]);
    // XX: a refresh never re-adds a slot that was released meanwhile.
    await slots.release('many0', 'c-many0');
    await slots.refresh([{ userId: 'many0', connectionId: 'c-many0' }]);
    expect(await redis.zscore(`${prefix}ws:slots:{many0}`, 'c-many0')).toBeNull();
  });
});
