import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Context } from '../../graphql/context.js';
import { rateLimited } from '../../shared/errors.js';
import type { RedisClient } from '../../realtime/redis-connection.js';

/** Requests allowed per window, per viewer (or anonymous client / address). */
export const RATE_LIMIT_RULES = {
  login: { points: 10, durationSec: 60 },
  setTyping: { points: 20, durationSec: 10 },
  trackPostView: { points: 120, durationSec: 60 },
  trackPageView: { points: 120, durationSec: 60 },
  addComment: { points: 10, durationSec: 60 },
} as const;

export type RateLimitedAction = keyof typeof RATE_LIMIT_RULES;

/**
 * rate-limiter-flexible: shared through Redis when configured (a limit holds across instances), in
 * memory otherwise. If Redis is unreachable the in-memory insurance limiter keeps limiting locally
 * rather than failing every request.
 */
export class RateLimits {
  private readonly limiters = new Map<RateLimitedAction, RateLimiterAbstract>();

  constructor(redis: RedisClient | null, prefix: string, overrides: Partial<Record<RateLimitedAction, { points: number; durationSec: number }>> = {}) {
    for (const [action, defaults] of Object.entries(RATE_LIMIT_RULES) as [RateLimitedAction, { points: number; durationSec: number }][]) {
      const rule = overrides[action] ?? defaults;
      const memory = new RateLimiterMemory({ keyPrefix: `rl:${action}`, points: rule.points, duration: rule.durationSec });
      this.limiters.set(
        action,
        redis
          ? new RateLimiterRedis({
              storeClient: redis,
              keyPrefix: `${prefix}rl:${action}`,
              points: rule.points,
              duration: rule.durationSec,
              insuranceLimiter: memory,
            })
          : memory,
      );
    }
  }

  /** Spends one point for the caller; throws RATE_LIMITED with `retryAfterMs` when none are left. */
  async consume(action: RateLimitedAction, ctx: Pick<Context, 'viewer' | 'origin'>, subject?: string): Promise<void> {
    const limiter = this.limiters.get(action);
    if (!limiter) return;
    const key = subject ?? (ctx.viewer ? `u:${ctx.viewer.id}` : `a:${ctx.origin.clientId ?? ctx.origin.ip ?? 'unknown'}`);
    try {
      await limiter.consume(key);
    } catch (result) {
      if (result instanceof RateLimiterRes) throw rateLimited(result.msBeforeNext);
      throw result;
    }
  }
}
