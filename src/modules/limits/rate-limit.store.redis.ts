import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { RedisClient } from '../../realtime/redis-connection.js';
import type { RateLimitRule, RateLimitStore } from './rate-limit.store.js';
import { spend } from './rate-limit.store.memory.js';

/**
 * rate-limiter-flexible on Redis: a limit holds across instances. If Redis is unreachable, its
 * in-memory insurance limiter keeps limiting locally rather than failing every request.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async consume(name: string, rule: RateLimitRule, key: string): Promise<number> {
    let limiter = this.limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${this.prefix}rl:${name}`,
        points: rule.points,
        duration: rule.durationSec,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `rl:${name}`, points: rule.points, duration: rule.durationSec }),
      });
      this.limiters.set(name, limiter);
    }
    return spend(limiter, key);
  }
}
