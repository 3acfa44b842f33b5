import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitRule, RateLimitStore } from './rate-limit.store.js';

/** rate-limiter-flexible in this process's memory: one limiter per rule. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly limiters = new Map<string, RateLimiterMemory>();

  async consume(name: string, rule: RateLimitRule, key: string): Promise<number> {
    let limiter = this.limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterMemory({ keyPrefix: `rl:${name}`, points: rule.points, duration: rule.durationSec });
      this.limiters.set(name, limiter);
    }
    return spend(limiter, key);
  }
}

/** Spends a point; the wait when refused. */
export async function spend(limiter: { consume(key: string): Promise<RateLimiterRes> }, key: string): Promise<number> {
  try {
    await limiter.consume(key);
    return 0;
  } catch (result) {
    if (result instanceof RateLimiterRes) return Math.max(1, Math.ceil(result.msBeforeNext));
    throw result;
  }
}
