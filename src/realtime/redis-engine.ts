import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { PubSubEngine } from './engine.js';
import { pingRedis, type RedisClient } from './redis-connection.js';

/**
 * Redis pub/sub through graphql-redis-subscriptions: it reference-counts channels, so one Redis
 * SUBSCRIBE serves every local subscriber of a topic. Publisher and subscriber are separate
 * connections because a subscribed connection cannot publish.
 */
export function createRedisEngine(publisher: RedisClient, subscriber: RedisClient): PubSubEngine {
  handleUnsubscribeFailures(subscriber);
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

/**
 * graphql-redis-subscriptions sends UNSUBSCRIBE/PUNSUBSCRIBE for a channel's last listener without
 * handling the returned promises, so while Redis is unreachable (or closing) each rejects unhandled.
 * Ignoring the failure loses nothing: the library has already dropped the listener, so a message that
 * still arrives on that channel reaches no one.
 */
function handleUnsubscribeFailures(subscriber: RedisClient): void {
  for (const command of ['unsubscribe', 'punsubscribe'] as const) {
    const send = subscriber[command].bind(subscriber) as (...channels: string[]) => Promise<unknown>;
    (subscriber as unknown as Record<typeof command, (...channels: string[]) => Promise<unknown>>)[command] = (...channels) => {
      const reply = send(...channels);
      reply.catch(() => undefined);
      return reply;
    };
  }
}
