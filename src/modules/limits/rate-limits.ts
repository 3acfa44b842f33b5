import { rateLimited } from '../../shared/errors.js';
import type { RateLimitRule, RateLimitStore } from './rate-limit.store.js';

/** Calls allowed per window, per subject (see `consume`). */
export const RATE_LIMIT_RULES = {
  /** Per (email, address): a stranger elsewhere cannot lock the owner out by failing their password. */
  login: { points: 10, durationSec: 60 },
  /** Per address, whatever the email: one address trying many accounts. */
  loginAddress: { points: 30, durationSec: 60 },
  setTyping: { points: 20, durationSec: 10 },
  trackPostView: { points: 120, durationSec: 60 },
  trackPageView: { points: 120, durationSec: 60 },
  addComment: { points: 10, durationSec: 60 },
} as const satisfies Record<string, RateLimitRule>;

export type RateLimitedAction = keyof typeof RATE_LIMIT_RULES;

/** Rate limits per action, on the store the composition root chose (memory, or Redis across instances). */
export class RateLimits {
  constructor(
    private readonly store: RateLimitStore,
    private readonly rules: Readonly<Record<RateLimitedAction, RateLimitRule>> = RATE_LIMIT_RULES,
  ) {}

  /**
   * Spends one point of `action` for `subject`, a key the server derived (`u:<user id>`, `ip:<address>`),
   * never one the caller chose. Throws RATE_LIMITED with `retryAfterMs` when none are left.
   */
  async consume(action: RateLimitedAction, subject: string): Promise<void> {
    const waitMs = await this.store.consume(action, this.rules[action], subject);
    if (waitMs > 0) throw rateLimited(waitMs);
  }
}
