import type { Config } from '../shared/config.js';
import type { PrismaClient } from '../data/db.js';
import { AuthService } from '../modules/auth/auth.service.js';
import { SessionRevocations } from '../modules/auth/session-revocations.js';
import { createMemoryEngine } from '../realtime/memory-engine.js';
import { PubSub } from '../realtime/pubsub.js';

/**
 * The server's AuthService over the CLI's database, so users and tokens are made exactly as the API makes
 * them (same validation, hashing and token claims). Its pubsub is in-process: the CLI publishes nothing
 * that a server needs to hear (new users and tokens are not events).
 */
export function cliAuthService(config: Config, db: PrismaClient): AuthService {
  const pubsub = new PubSub(createMemoryEngine(), { capacity: 1, expiryMs: 1000 }, config.redisPrefix);
  return new AuthService(
    db,
    pubsub,
    { secret: config.jwt.secret, issuer: config.jwt.issuer, audience: config.jwt.audience, accessTtlMs: config.jwt.accessTtlMs, refreshTtlMs: config.jwt.refreshTtlMs },
    new SessionRevocations(db),
  );
}
