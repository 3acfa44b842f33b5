import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, testRedisUrl } from '../helpers/backends.js';
import { backendAvailable } from '../helpers/test-app.js';
import { RedisTypingStore } from '../../src/modules/comments/typing.store.redis.js';
import type { TypingExpiry } from '../../src/modules/comments/typing.store.js';

describe.runIf(backendAvailable() && backend === 'services')('RedisTypingStore shared by two instances', () => {
  let redis: Redis;
  let one: RedisTypingStore;
  let two: RedisTypingStore;
  const prefix = `herald-test-typing-${randomBytes(4).toString('hex')}:`;
  const failures: unknown[] = [];

  beforeAll(() => {
    redis = new Redis(testRedisUrl);
    one = new RedisTypingStore(redis, prefix, 1000, (e) => failures.push(e));
    two = new RedisTypingStore(redis, prefix, 1000, (e) => failures.push(e));
  });

  afterAll(async () => {
    one?.close();
    two?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('agrees on who types, and reports every expiry exactly once across instances', async () => {
    const postId = randomUUID();
    const users = Array.from({ length: 20 }, () => randomUUID()).sort();
    const expired: TypingExpiry[] = [];
    one.onExpired((e) => expired.push(e));
    two.onExpired((e) => expired.push(e));

    expect((await one.start(postId, users[0]!)).started).toBe(true);
    expect((await two.start(postId, users[0]!)).started).toBe(false);
    for (const user of users.slice(1)) await (user < users[10]! ? one : two).start(postId, user);
    expect(await two.list(postId)).toEqual(users);

    // Both instances sweep as hard as they can until every typist has expired (bounded).
    const deadline = Date.now() + 5000;
    while (expired.length < users.length && Date.now() < deadline) await Promise.all([one.sweep(), two.sweep(), one.sweep(), two.sweep()]);
    expect(expired.map((e) => e.userId).sort()).toEqual(users);
    expect(await one.list(postId)).toEqual([]);
    // Another round finds nothing more to report.
    await Promise.all([one.sweep(), two.sweep()]);
    expect(expired).toHaveLength(users.length);
    expect(failures).toEqual([]);
  });

  it('stops once, whichever instance is asked', async () => {
    const postId = randomUUID();
    const user = randomUUID();
    await one.start(postId, user);
    const results = await Promise.all([one.stop(postId, user), two.stop(postId, user)]);
    expect(results.filter((r) => r.stopped)).toHaveLength(1);
    expect(await two.list(postId)).toEqual([]);
  });
});
