import type { Config } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import type { PrismaClient } from '../data/db.js';
import { AuthService } from '../modules/auth/auth.service.js';
import { SessionRevocations } from '../modules/auth/session-revocations.js';
import { createMemoryEngine } from '../realtime/memory-engine.js';
import { createRedisEngine } from '../realtime/redis-engine.js';
import { connectRedis } from '../realtime/redis-connection.js';
import { PubSub } from '../realtime/pubsub.js';

const STREAM_LIMITS = { capacity: 1, expiryMs: 1000 };

/**
 * The server's AuthService over the CLI's database, so users and tokens are made exactly as the API makes
 * them (same validation, hashing and token claims). By default its pubsub is in-process: new users and
 * tokens are not events a server needs to hear. Commands whose writes servers must hear (`user set-role`)
 * pass `cliPubSub(config)`.
 */
export function cliAuthService(config: Config, db: PrismaClient, pubsub = new PubSub(createMemoryEngine(), STREAM_LIMITS, config.redisPrefix)): AuthService {
  return new AuthService(
    db,
    pubsub,
    { secret: config.jwt.secret, issuer: config.jwt.issuer, audience: config.jwt.audience, accessTtlMs: config.jwt.accessTtlMs, refreshTtlMs: config.jwt.refreshTtlMs },
    new SessionRevocations(db),
  );
}

/**
 * The servers' pub/sub when Redis is configured (so every instance hears what the CLI publishes), else an
 * in-process one: without Redis no other process can hear, and servers notice within seconds anyway
 * (they re-read what they cached). Close it when done.
 */
export function cliPubSub(config: Config): PubSub {
  if (!config.redisUrl && !config.redisClusterNodes?.length) return new PubSub(createMemoryEngine(), STREAM_LIMITS, config.redisPrefix);
  const target = { url: config.redisUrl, clusterNodes: config.redisClusterNodes };
  const logger = createLogger('silent');
  return new PubSub(createRedisEngine(connectRedis(target, 'cli-publisher', logger), connectRedis(target, 'subscriber', logger)), STREAM_LIMITS, config.redisPrefix);
}
