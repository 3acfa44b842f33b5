import { Cluster } from 'ioredis';
import type { RedisClient } from '../../realtime/redis-connection.js';
import { defineRedisScript, type RedisScript } from '../../realtime/redis-script.js';
import { WriteBatcher } from '../../shared/write-batcher.js';
import type { ConnectionSlots } from './connection-slots.store.js';

const ACQUIRE_COMMAND = 'heraldAcquireConnectionSlot';

/**
 * How long a slot request waits for others to share its round trip. In a reconnect wave connections still
 * arrive one per event-loop turn, about a millisecond apart, so batching one turn shares nothing; 1 ms adds
 * at most that to a connect.
 */
export const ACQUIRE_WINDOW_MS = 1;

interface SlotRequest {
  readonly key: string;
  readonly connectionId: string;
  readonly max: number;
}

type AcquirePipeline = Record<typeof ACQUIRE_COMMAND, (...keysThenArgs: (string | number)[]) => unknown> & {
  exec(): Promise<[Error | null, unknown][] | null>;
};

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

/**
 * Shared through Redis: the cap holds across every instance. On a single Redis the slot requests of one
 * `ACQUIRE_WINDOW_MS` go as one pipeline (each still its own script run, so each check-and-add stays
 * atomic); a cluster runs each on its own, since one user's key is one slot and a pipeline may not span slots.
 */
export class RedisConnectionSlots implements ConnectionSlots {
  private readonly acquireScript: RedisScript;
  private readonly acquires: WriteBatcher<SlotRequest, boolean> | null;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
    acquireWindowMs = ACQUIRE_WINDOW_MS,
  ) {
    this.acquireScript = defineRedisScript(redis, ACQUIRE_COMMAND, 1, ACQUIRE_SCRIPT);
    this.acquires = redis instanceof Cluster ? null : new WriteBatcher((requests) => this.acquireMany(requests), 500, acquireWindowMs);
  }

  private key(userId: string): string {
    // The hash tag keeps one user's key on one cluster slot whatever the prefix.
    return `${this.prefix}ws:slots:{${userId}}`;
  }

  async acquire(userId: string, connectionId: string, max: number): Promise<boolean> {
    if (this.acquires) return this.acquires.add({ key: this.key(userId), connectionId, max });
    const now = Date.now();
    const result = await this.acquireScript(this.key(userId), now, now + this.ttlMs, max, connectionId, this.ttlMs);
    return Number(result) === 1;
  }

  /** One pipeline of script runs, in request order; a failed run fails the batch (as a failed round trip would). */
  private async acquireMany(requests: readonly SlotRequest[]): Promise<boolean[]> {
    const now = Date.now();
    const pipeline = this.redis.pipeline() as unknown as AcquirePipeline;
    for (const { key, connectionId, max } of requests) pipeline[ACQUIRE_COMMAND](key, now, now + this.ttlMs, max, connectionId, this.ttlMs);
    const replies = await pipeline.exec();
    if (!replies || replies.length !== requests.length) throw new Error('Redis answered the connection slot pipeline incompletely');
    firstFailure(replies);
    return replies.map(([, result]) => Number(result) === 1);
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
