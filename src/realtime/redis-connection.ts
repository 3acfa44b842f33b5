import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  readonly url: string | undefined;
  readonly clusterNodes: readonly string[] | undefined;
}

const baseOptions: RedisOptions = {
  // Commands fail fast while Redis is away instead of piling up in memory; pub/sub resubscribes itself.
  maxRetriesPerRequest: 2,
  enableOfflineQueue: true,
  retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  lazyConnect: false,
};

const SUBSCRIBER_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: null,
  // No ready check (INFO) on the subscriber: ioredis writes a SUBSCRIBE issued during its handshake at once,
  // the INFO after it then fails in subscriber mode, and the reconnect that follows did not resubscribe
  // those channels (ioredis#2037; an instance's start-up listeners subscribe in that window). SUBSCRIBE is
  // valid while Redis loads its data, which is all the ready check waits for.
  enableReadyCheck: false,
};

/** Opens one Redis connection (or cluster client); `role` names it in logs and CLIENT LIST. */
export function connectRedis(target: RedisTarget, role: string, logger: Logger): RedisClient {
  const connectionName = `herald-${role}`;
  // A SUBSCRIBE issued while Redis is away must wait for it (and then be resubscribed) rather than fail:
  // the subscriber connection queues without limit; command connections fail fast.
  const subscriber = role === 'subscriber';
  const roleOptions: RedisOptions = subscriber ? { ...baseOptions, ...SUBSCRIBER_OPTIONS } : baseOptions;
  let client: RedisClient;
  if (target.clusterNodes && target.clusterNodes.length > 0) {
    client = new Cluster(
      target.clusterNodes.map((node) => {
        const url = new URL(node.includes('://') ? node : `redis://${node}`);
        return { host: url.hostname, port: Number(url.port || 6379) };
      }),
      {
        redisOptions: { ...roleOptions, connectionName },
        clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
        // The subscriber keeps one connection per master for SSUBSCRIBE (sharded pub/sub, Redis >= 7);
        // unused, and harmless, when the engine falls back to classic SUBSCRIBE.
        shardedSubscribers: subscriber,
      },
    );
  } else if (target.url) {
    client = new Redis(target.url, { ...roleOptions, connectionName });
  } else {
    throw new Error('connectRedis needs REDIS_URL or REDIS_CLUSTER_NODES');
  }
  let wasDown = false;
  client.on('error', (error: Error) => {
    if (!wasDown) logger.warn({ role, err: error.message }, 'redis connection error');
    wasDown = true;
  });
  client.on('ready', () => {
    if (wasDown) logger.info({ role }, 'redis connection restored');
    wasDown = false;
  });
  return client;
}

/** PING with a bound, so a health check never hangs on a dead server. */
export async function pingRedis(client: RedisClient, timeoutMs = 1000): Promise<boolean> {
  if (client.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      client.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return result === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
