import type { RedisClient } from '../../realtime/redis-connection.js';
import type { VisitorStore } from './visitor.store.js';

/**
 * Live visitors shared by every instance: one sorted set, member = visitor id, score = last-seen time
 * (epoch ms). Counting trims members older than the window first, so entries left behind by a dead
 * instance age out by themselves; the key also expires when nobody has been seen for a while.
 */
export class RedisVisitorStore implements VisitorStore {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly windowMs: number,
  ) {
    this.key = `${prefix}analytics:live-visitors`;
  }

  async touch(visitorIds: readonly string[], at: number): Promise<void> {
    if (visitorIds.length === 0) return;
    const members = visitorIds.flatMap((id) => [at, id] as const);
    // GT: a lagging clock on another instance never moves a visitor's last-seen time backwards.
    await this.redis.multi().zadd(this.key, 'GT', ...members).pexpire(this.key, this.windowMs * 2).exec();
  }

  async countSince(since: number): Promise<number> {
    const results = await this.redis.multi().zremrangebyscore(this.key, '-inf', `(${since}`).zcard(this.key).exec();
    const [error, count] = results?.[1] ?? [new Error('Redis returned no result'), null];
    if (error) throw error;
    return Number(count);
  }
}
