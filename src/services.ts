import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { PrismaClient } from './data/db.js';
import type { PubSub } from './realtime/pubsub.js';
import type { RedisClient } from './realtime/redis-connection.js';
import type { ConnectionEvents } from './realtime/connection-events.js';
import { AuthService } from './modules/auth/auth.service.js';
import { SessionRevocations } from './modules/auth/session-revocations.js';
import { UserService } from './modules/users/user.service.js';
import { PostService } from './modules/posts/post.service.js';
import { HealthService } from './modules/health/health.service.js';
import { RateLimits } from './modules/limits/rate-limits.js';

export interface ServiceDeps {
  readonly config: Config;
  readonly db: PrismaClient;
  readonly pubsub: PubSub;
  /** The command connection for shared ephemeral state; null on the in-process engine. */
  readonly redis: RedisClient | null;
  readonly logger: Logger;
  /** WebSocket connections opening and closing on this instance. */
  readonly connectionEvents: ConnectionEvents;
}

/** Every domain service, built once per app and reached through the context. */
export interface Services {
  readonly auth: AuthService;
  readonly revocations: SessionRevocations;
  readonly users: UserService;
  readonly posts: PostService;
  readonly health: HealthService;
  readonly rateLimits: RateLimits;
  /** Stops timers and listeners the services own. */
  stop(): Promise<void>;
}

export function createServices(deps: ServiceDeps): Services {
  const { config, db, pubsub, logger } = deps;
  const onError = (error: unknown, what: string) => logger.warn({ err: error }, `${what} failed`);
  const revocations = new SessionRevocations(db);
  const auth = new AuthService(
    db,
    pubsub,
    { secret: config.jwt.secret, issuer: config.jwt.issuer, audience: config.jwt.audience, accessTtlMs: config.jwt.accessTtlMs, refreshTtlMs: config.jwt.refreshTtlMs },
    revocations,
  );
  const posts = new PostService(db, pubsub, onError);
  return {
    auth,
    revocations,
    users: new UserService(db),
    posts,
    health: new HealthService(db, pubsub, config.instanceId),
    rateLimits: new RateLimits(deps.redis, config.redisPrefix),
    async stop() {
      posts.stop();
    },
  };
}
