import type { Cluster } from 'ioredis';
import type { ChannelListener } from './engine.js';

/** The two calls of an engine that depend on how messages travel; health and close are shared. */
export interface ChannelTransport {
  publish(channel: string, message: object): Promise<void>;
  subscribe(channel: string, listener: ChannelListener): Promise<() => void>;
}

interface ChannelEntry {
  readonly listeners: Set<ChannelListener>;
  /** Settles when the shard has confirmed the SSUBSCRIBE. */
  readonly subscribed: Promise<void>;
}

/**
 * Sharded pub/sub on a Redis Cluster (Redis >= 7): SPUBLISH is delivered by the shard that owns the
 * channel's slot (and its replicas) only, where classic PUBLISH is copied to every node of the cluster.
 * graphql-redis-subscriptions only speaks SUBSCRIBE/PUBLISH, so this keeps its own listener table:
 * one SSUBSCRIBE per channel however many local listeners it has, dropped with the last one.
 * `subscriber` must be a Cluster created with `shardedSubscribers: true` (ioredis 5 then keeps one
 * connection per master, routes SSUBSCRIBE by slot, resubscribes after a failover or restart, and
 * emits every shard's messages as `smessage`).
 */
export function createShardedTransport(publisher: Cluster, subscriber: Cluster): ChannelTransport {
  const channels = new Map<string, ChannelEntry>();
  subscriber.on('smessage', (channel: string, message: string) => {
    const entry = channels.get(channel);
    if (!entry) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      parsed = message;
    }
    for (const listener of [...entry.listeners]) listener(parsed);
  });

  return {
    async publish(channel, message) {
      await publisher.spublish(channel, JSON.stringify(message));
    },
    async subscribe(channel, listener) {
      // Wrapped so one function can subscribe twice and unsubscribe each independently.
      const own: ChannelListener = (message) => listener(message);
      let entry = channels.get(channel);
      if (!entry) {
        const created: ChannelEntry = { listeners: new Set(), subscribed: subscriber.ssubscribe(channel).then(() => undefined) };
        // A failed SSUBSCRIBE must not leave the channel looking subscribed to the next caller.
        created.subscribed.catch(() => {
          if (channels.get(channel) === created) channels.delete(channel);
        });
        channels.set(channel, created);
        entry = created;
      }
      const current = entry;
      current.listeners.add(own);
      try {
        await current.subscribed;
      } catch (error) {
        current.listeners.delete(own);
        throw error;
      }
      return () => {
        if (!current.listeners.delete(own) || current.listeners.size > 0) return;
        if (channels.get(channel) === current) channels.delete(channel);
        // While Redis is away this fails; nothing is lost: no listener is left for the channel.
        subscriber.sunsubscribe(channel).catch(() => undefined);
      };
    },
  };
}

/**
 * Whether the cluster's servers have sharded pub/sub (Redis >= 7 knows SPUBLISH). Sent on the
 * subscriber client, whose commands wait for Redis instead of failing, so start-up with the cluster
 * down simply waits; rejects only if the reply is unusable.
 */
export async function clusterSupportsShardedPubSub(client: Cluster): Promise<boolean> {
  const reply = (await client.call('COMMAND', 'INFO', 'SPUBLISH')) as unknown[];
  return Array.isArray(reply) && reply.length > 0 && reply[0] !== null;
}
