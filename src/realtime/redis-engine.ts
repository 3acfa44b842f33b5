import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { PubSubEngine } from './engine.js';
import { pingRedis, type RedisClient } from './redis-connection.js';

/**
 * Redis pub/sub through graphql-redis-subscriptions: it reference-counts channels, so one Redis
 * SUBSCRIBE serves every local subscriber of a topic. Publisher and subscriber are separate
 * connections because a subscribed connection cannot publish.
 */
export function createRedisEngine(publisher: RedisClient, subscriber: RedisClient): PubSubEngine {
  const redisPubSub = new RedisPubSub({ publisher, subscriber });
  return {
    kind: 'redis',
    async publish(channel, message) {
      await redisPubSub.publish(channel, message);
    },
    async subscribe(channel, listener) {
      const id = await redisPubSub.subscribe(channel, listener);
      return () => redisPubSub.unsubscribe(id);
    },
    async isHealthy() {
      const [pub, sub] = await Promise.all([pingRedis(publisher), Promise.resolve(subscriber.status === 'ready')]);
      return pub && sub;
    },
    async close() {
      // quit() lets in-flight publishes finish; disconnect() if Redis is gone and quit would hang.
      await Promise.all(
        [publisher, subscriber].map(async (c) => {
          if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
          else c.disconnect();
        }),
      );
    },
  };
}
