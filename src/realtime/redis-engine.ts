import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Cluster } from 'ioredis';
import type { PubSubEngine } from './engine.js';
import { pingRedis, type RedisClient } from './redis-connection.js';
import { clusterSupportsShardedPubSub, createShardedTransport, type ChannelTransport } from './redis-sharded-engine.js';

export interface RedisEngineOptions {
  /**
   * Sharded pub/sub (SPUBLISH/SSUBSCRIBE) on a cluster: `'auto'` (default) uses it when the servers
   * have it (Redis >= 7), `true` always, `false` never. Ignored on a single Redis.
   */
  readonly sharded?: 'auto' | boolean;
}

/**
 * The Redis engine. On a single Redis, and on a cluster without sharded pub/sub, classic
 * PUBLISH/SUBSCRIBE through graphql-redis-subscriptions; on a cluster with Redis >= 7,
 * SPUBLISH/SSUBSCRIBE, so each message only reaches the shard that owns its channel (see
 * redis-sharded-engine.ts). Publisher and subscriber are separate connections because a subscribed
 * connection cannot publish. Instances must agree: a classic publisher and a sharded subscriber do not
 * hear each other.
 */
export function createRedisEngine(publisher: RedisClient, subscriber: RedisClient, options: RedisEngineOptions = {}): PubSubEngine {
  const sharded = options.sharded ?? 'auto';
  // Known at once except for 'auto' on a cluster, which asks the servers first (once per process).
  let known: ChannelTransport | null = null;
  let choosing: Promise<ChannelTransport> | null = null;
  if (!(publisher instanceof Cluster) || !(subscriber instanceof Cluster) || sharded === false) {
    known = createClassicTransport(publisher, subscriber);
  } else if (sharded === true) {
    known = createShardedTransport(publisher, subscriber);
  } else {
    choosing = chooseClusterTransport(publisher, subscriber).then((chosen) => (known = chosen));
    // Callers see a failure through their own await; this only keeps an unawaited one from ending the process.
    choosing.catch(() => undefined);
  }
  // Synchronous when known, so the classic path calls the library exactly as before.
  const transport = async (): Promise<ChannelTransport> => known ?? (choosing as Promise<ChannelTransport>);
  return {
    kind: 'redis',
    async publish(channel, message) {
      await (known ?? (await transport())).publish(channel, message);
    },
    async subscribe(channel, listener) {
      return (known ?? (await transport())).subscribe(channel, listener);
    },
    onRestored(listener) {
      let lost = false;
      subscriber.on('close', () => (lost = true));
      subscriber.on('ready', () => {
        if (!lost) return;
        lost = false;
        listener();
        // The engine resubscribes its channels after `ready`: a ring in between is read on this second look.
        setTimeout(listener, 1000).unref();
      });
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
 * Asks the cluster once (waiting for it if it is down) and keeps the answer for the process's life.
 * A failed probe is retried rather than guessed: guessing wrong would split instances into two groups
 * that do not hear each other.
 */
function chooseClusterTransport(publisher: Cluster, subscriber: Cluster): Promise<ChannelTransport> {
  return (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await clusterSupportsShardedPubSub(subscriber)) ? createShardedTransport(publisher, subscriber) : createClassicTransport(publisher, subscriber);
      } catch (error) {
        if (subscriber.status === 'end') throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(attempt * 200, 2000)));
      }
    }
  })();
}

/**
 * Classic pub/sub through graphql-redis-subscriptions: it reference-counts channels, so one Redis
 * SUBSCRIBE serves every local subscriber of a topic.
 */
function createClassicTransport(publisher: RedisClient, subscriber: RedisClient): ChannelTransport {
  handleUnsubscribeFailures(subscriber);
  const redisPubSub = new RedisPubSub({ publisher, subscriber });
  return {
    async publish(channel, message) {
      await redisPubSub.publish(channel, message);
    },
    async subscribe(channel, listener) {
      const subscribed = redisPubSub.subscribe(channel, listener);
      handlePendingSubscribeFailure(redisPubSub, channel);
      const id = await subscribed;
      return () => redisPubSub.unsubscribe(id);
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
