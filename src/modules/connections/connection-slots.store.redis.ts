import { Cluster } from 'ioredis';
import type { RedisClient } from '../../realtime/redis-connection.js';
import { defineRedisScript, type RedisScript } from '../../realtime/redis-script.js';
import type { ConnectionSlots } from './connection-slots.store.js';

/**
 * Atomic check-and-add on a sorted set per user (member = connection id, score = expiry in ms):
 * drop lapsed slots, count, add when below the cap. One key per call, so it also runs on a cluster.
 */
const ACQUIRE_SCRIPT = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local ttl = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZSCORE', key, ARGV[4]) then
  redis.call('ZADD', key, expiry, ARGV[4])
  return 1
end
if redis.call('ZCARD', key) >= max then
  return 0
end
redis.call('ZADD', key, expiry, ARGV[4])
redis.call('PEXPIRE', key, ttl)
return 1
`;

/** Shared through Redis: the cap holds across every instance. */
export class RedisConnectionSlots implements ConnectionSlots {
  private readonly acquireScript: RedisScript;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {
    this.acquireScript = defineRedisScript(redis, 'heraldAcquireConnectionSlot', 1, ACQUIRE_SCRIPT);
  }

  private key(userId: string): string {
    // The hash tag keeps one user's key on one cluster slot whatever the prefix.
    return `${this.prefix}ws:slots:{${userId}}`;
  }

  async acquire(userId: string, connectionId: string, max: number): Promise<boolean> {
    const now = Date.now();
    const result = await this.acquireScript(this.key(userId), now, now + this.ttlMs, max, connectionId, this.ttlMs);
    return Number(result) === 1;
  }

  async release(userId: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.key(userId), connectionId);
  }

  async refresh(slots: readonly { userId: string; connectionId: string }[]): Promise<void> {
    if (slots.length === 0) return;
    const expiry = Date.now() + this.ttlMs;
    const byUser = new Map<string, (string | number)[]>();
    for (const { userId, connectionId } of slots) {
      const pairs = byUser.get(userId) ?? [];
      pairs.push(expiry, connectionId);
      byUser.set(userId, pairs);
    }
    // One ZADD per user (all of its connections) and PEXPIRE. A single Redis takes them all in pipelines
    // of REFRESH_USERS_PER_PIPELINE users; a cluster spreads users over slots, so there each user's pair
    // is its own transaction (its key's hash tag keeps it on one slot).
    const users = [...byUser];
    if (this.redis instanceof Cluster) {
      await Promise.all(users.map(([userId, pairs]) => this.redis.multi().zadd(this.key(userId), 'XX', ...pairs).pexpire(this.key(userId), this.ttlMs).exec().then(firstFailure)));
      return;
    }
    for (let from = 0; from < users.length; from += REFRESH_USERS_PER_PIPELINE) {
      const pipeline = this.redis.pipeline();
      for (const [userId, pairs] of users.slice(from, from + REFRESH_USERS_PER_PIPELINE)) {
        pipeline.zadd(this.key(userId), 'XX', ...pairs).pexpire(this.key(userId), this.ttlMs);
      }
      firstFailure(await pipeline.exec());
    }
  }
}

/** Bounds one pipeline's request and reply buffers (two commands per user). */
const REFRESH_USERS_PER_PIPELINE = 1000;

/** Throws the first failed command of a pipeline or transaction reply, so the heartbeat reports it. */
function firstFailure(replies: [Error | null, unknown][] | null): void {
  const failed = replies?.find(([error]) => error !== null);
  if (failed) throw failed[0];
}
