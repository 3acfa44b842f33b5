import type { RedisClient } from '../../realtime/redis-connection.js';
import type { InstanceSnapshot } from './instance-stats.js';
import type { InstanceStatsStore } from './instance-stats.store.js';

export class RedisInstanceStats implements InstanceStatsStore {
  private readonly indexKey: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {
    this.indexKey = `${prefix}ws:instances`;
  }

  private key(instanceId: string): string {
    return `${this.prefix}ws:instance:${instanceId}`;
  }

  async put(snapshot: InstanceSnapshot): Promise<void> {
    await Promise.all([
      this.redis.set(this.key(snapshot.instanceId), JSON.stringify(snapshot), 'PX', this.ttlMs),
      this.redis.zadd(this.indexKey, Date.now() + this.ttlMs, snapshot.instanceId),
    ]);
  }

  async remove(instanceId: string): Promise<void> {
    await Promise.all([this.redis.del(this.key(instanceId)), this.redis.zrem(this.indexKey, instanceId)]);
  }

  async all(): Promise<InstanceSnapshot[]> {
    const now = Date.now();
    await this.redis.zremrangebyscore(this.indexKey, '-inf', now);
    const ids = await this.redis.zrangebyscore(this.indexKey, now, '+inf');
    // Separate GETs, not MGET: the keys may live on different cluster slots.
    const values = await Promise.all(ids.map((id) => this.redis.get(this.key(id))));
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as InstanceSnapshot);
  }
}
