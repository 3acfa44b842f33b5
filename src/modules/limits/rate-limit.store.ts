/** How many calls a rule allows per window. */
export interface RateLimitRule {
  readonly points: number;
  readonly durationSec: number;
}

/**
 * Counts spent points per rule and key. The memory twin counts in this process; the Redis twin
 * across every instance (a limit holds however many instances a client spreads its calls over).
 */
export interface RateLimitStore {
  /** Spends one point of rule `name` for `key`: 0 when allowed, else the milliseconds until one is free. */
  consume(name: string, rule: RateLimitRule, key: string): Promise<number>;
}
