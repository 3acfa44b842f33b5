import type { Config } from './shared/config.js';
import type { RedisClient } from './realtime/redis-connection.js';
import { LIVE_WINDOW_MS } from './modules/analytics/live-visitors.js';
import type { VisitorStore } from './modules/analytics/visitor.store.js';
import { MemoryVisitorStore } from './modules/analytics/visitor.store.memory.js';
import { RedisVisitorStore } from './modules/analytics/visitor.store.redis.js';
import type { TypingStore } from './modules/comments/typing.store.js';
import { MemoryTypingStore } from './modules/comments/typing.store.memory.js';
import { RedisTypingStore } from './modules/comments/typing.store.redis.js';
import type { ConnectionSlots } from './modules/connections/connection-slots.store.js';
import { MemoryConnectionSlots } from './modules/connections/connection-slots.store.memory.js';
import { RedisConnectionSlots } from './modules/connections/connection-slots.store.redis.js';
import type { InstanceStatsStore } from './modules/connections/instance-stats.store.js';
import { MemoryInstanceStats } from './modules/connections/instance-stats.store.memory.js';
import { RedisInstanceStats } from './modules/connections/instance-stats.store.redis.js';
import type { RateLimitStore } from './modules/limits/rate-limit.store.js';
import { MemoryRateLimitStore } from './modules/limits/rate-limit.store.memory.js';
import { RedisRateLimitStore } from './modules/limits/rate-limit.store.redis.js';

/** Every piece of ephemeral state that must agree across instances, one twin (memory or Redis) each. */
export interface StateStores {
  readonly typing: TypingStore;
  readonly visitors: VisitorStore;
  readonly connectionSlots: ConnectionSlots;
  readonly instanceStats: InstanceStatsStore;
  readonly rateLimits: RateLimitStore;
}

/**
 * The one place that chooses: Redis twins (shared by every instance, healing by TTL when one dies) when
 * Redis is configured, in-memory twins with the same behaviour for one instance otherwise.
 */
export function createStateStores(config: Config, redis: RedisClient | null, onError: (error: unknown, what: string) => void): StateStores {
  // Slots and snapshots outlive three missed heartbeats at most, then free themselves.
  const connectionTtlMs = Math.max(3 * config.ws.heartbeatIntervalMs, 15_000);
  if (!redis) {
    return {
      typing: new MemoryTypingStore(config.typingTtlMs),
      visitors: new MemoryVisitorStore(LIVE_WINDOW_MS),
      connectionSlots: new MemoryConnectionSlots(connectionTtlMs),
      instanceStats: new MemoryInstanceStats(),
      rateLimits: new MemoryRateLimitStore(),
    };
  }
  const prefix = config.redisPrefix;
  return {
    typing: new RedisTypingStore(redis, prefix, config.typingTtlMs, onError),
    visitors: new RedisVisitorStore(redis, prefix, LIVE_WINDOW_MS),
    connectionSlots: new RedisConnectionSlots(redis, prefix, connectionTtlMs),
    instanceStats: new RedisInstanceStats(redis, prefix, connectionTtlMs),
    rateLimits: new RedisRateLimitStore(redis, prefix),
  };
}
