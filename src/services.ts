import type { Logger } from 'pino';
import type { Config } from './shared/config.js';
import type { PrismaClient } from './data/db.js';
import type { PubSub } from './realtime/pubsub.js';
import type { RedisClient } from './realtime/redis-connection.js';
import type { ConnectionEvents } from './modules/connections/connection-events.js';
import { AuthService } from './modules/auth/auth.service.js';
import { SessionRevocations } from './modules/auth/session-revocations.js';
import { UserService } from './modules/users/user.service.js';
import { PostService } from './modules/posts/post.service.js';
import { HealthService } from './modules/health/health.service.js';
import { RateLimits } from './modules/limits/rate-limits.js';
import { ConnectionManager } from './modules/connections/connection-registry.js';
import type { HeraldMetrics } from './metrics/metrics.js';
import { AnalyticsService } from './modules/analytics/analytics.service.js';
import { ConnectionCleanupService } from './modules/connections/cleanup.service.js';
import { NotificationService } from './modules/notifications/notification.service.js';
import { CommentService } from './modules/comments/comment.service.js';
import { TypingService } from './modules/comments/typing.service.js';
import { MemoryTypingStore } from './modules/comments/typing-store.memory.js';
import { RedisTypingStore } from './modules/comments/typing-store.redis.js';

export interface ServiceDeps {
  readonly config: Config;
  readonly db: PrismaClient;
  readonly pubsub: PubSub;
  /** The command connection for shared ephemeral state; null on the in-process engine. */
  readonly redis: RedisClient | null;
  readonly logger: Logger;
  /** WebSocket connections opening and closing on this instance. */
  readonly connectionEvents: ConnectionEvents;
  /** Prometheus metrics of this app (absent in tests that build services alone). */
  readonly metrics?: HeraldMetrics;
}

/** Every domain service, built once per app and reached through the context. */
export interface Services {
  readonly auth: AuthService;
  readonly revocations: SessionRevocations;
  readonly users: UserService;
  readonly posts: PostService;
  readonly health: HealthService;
  readonly rateLimits: RateLimits;
  /** This instance's WebSocket connections: records, per-user cap, limits, `connectionStats`. */
  readonly connections: ConnectionManager;
  /** Page views, live visitors and the staff dashboard. */
  readonly analytics: AnalyticsService;
  /** Finalises abandoned WebSocketConnection records and deletes old ones (periodic job + CLI `cleanup`). */
  readonly connectionCleanup: ConnectionCleanupService;
  /** Stores and publishes notifications; posts and comments tell it what happened (PostEventsSink, CommentNotifier). */
  readonly notifications: NotificationService;
  /** Comments and their moderation (keeps Post.commentCount exact). */
  readonly comments: CommentService;
  /** Typing indicators (shared through Redis with TTLs when configured). */
  readonly typing: TypingService;
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
  const connections = new ConnectionManager({ config, db, redis: deps.redis, logger, connectionEvents: deps.connectionEvents, metrics: deps.metrics });
  const analytics = new AnalyticsService({
    db,
    pubsub,
    redis: deps.redis,
    redisPrefix: config.redisPrefix,
    connectionEvents: deps.connectionEvents,
    minIntervalMs: config.analytics.minIntervalMs,
    maxIntervalMs: config.analytics.maxIntervalMs,
    onError,
  });
  const users = new UserService(db);
  const notifications = new NotificationService(db, users);
  posts.attachSink(notifications);
  const comments = new CommentService(db, posts, notifications, onError);
  const typingStore = deps.redis ? new RedisTypingStore(deps.redis, config.redisPrefix, config.typingTtlMs, onError) : new MemoryTypingStore(config.typingTtlMs);
  const typing = new TypingService(typingStore, posts, pubsub, deps.connectionEvents, onError);
  const connectionCleanup = new ConnectionCleanupService(db, logger);
  connectionCleanup.startPeriodic(config.ws.cleanupIntervalMs, {
    retentionMs: config.ws.cleanupRetentionMs,
    staleAfterMs: ConnectionCleanupService.staleAfterFor(config.ws.connectionTimeoutMs, config.ws.heartbeatIntervalMs),
  });
  return {
    auth,
    revocations,
    users,
    posts,
    health: new HealthService(db, pubsub, config.instanceId),
    rateLimits: new RateLimits(deps.redis, config.redisPrefix),
    connections,
    analytics,
    connectionCleanup,
    notifications,
    comments,
    typing,
    async stop() {
      // First: finalises every connection record while the database and Redis are still up.
      await connections.stop();
      posts.stop();
      analytics.stop();
      typing.stop();
      await connectionCleanup.stop();
    },
  };
}
