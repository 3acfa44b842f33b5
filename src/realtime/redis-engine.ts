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
      const subscribed = redisPubSub.subscribe(channel, listener);
      handlePendingSubscribeFailure(redisPubSub, channel);
      const id = await subscribed;
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

interface PendingSubscribes {
  readonly subsPendingRefsMap?: Map<string, { readonly pending?: { readonly promise?: Promise<unknown> } }>;
}

/**
 * graphql-redis-subscriptions keeps, per channel whose SUBSCRIBE is in flight, a second promise for
 * later subscribers of that channel, and rejects it when the SUBSCRIBE fails even when nobody waits on
 * it. A SUBSCRIBE waits while Redis is away, so closing then (shutdown with Redis down) failed it and
 * left that promise rejected unhandled, which ends a Node process. The caller still sees the failure
 * through the promise `subscribe` returned; this only marks the library's spare copy as handled.
 */
function handlePendingSubscribeFailure(redisPubSub: RedisPubSub, channel: string): void {
  const pending = (redisPubSub as unknown as PendingSubscribes).subsPendingRefsMap?.get(channel)?.pending?.promise;
  pending?.catch(() => undefined);
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
