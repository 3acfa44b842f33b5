import type { Logger } from 'pino';
import type { Config } from './shared/config.js';
import { EventScopedLoader } from './shared/event-scoped-loader.js';
import type { HeraldDb } from './data/db.js';
import type { PostAuthors } from './data/post-authors.js';
import type { SqlQuery } from './data/sql-query.js';
import type { Post } from './generated/prisma/client.js';
import type { PubSub } from './realtime/pubsub.js';
import type { HeraldMetrics } from './metrics/metrics.js';
import type { Services } from './graphql/context.js';
import { AuthService } from './modules/auth/auth.service.js';
import { SessionRevocations } from './modules/auth/session-revocations.js';
import { UserService } from './modules/users/user.service.js';
import { PostService } from './modules/posts/post.service.js';
import { HealthService } from './modules/health/health.service.js';
import { RateLimits } from './modules/limits/rate-limits.js';
import { ConnectionRegistry } from './modules/connections/connection-registry.js';
import { ConnectionRecords } from './modules/connections/connection-records.js';
import { ConnectionCleanupService } from './modules/connections/cleanup.service.js';
import { AnalyticsService } from './modules/analytics/analytics.service.js';
import { NotificationService } from './modules/notifications/notification.service.js';
import { CommentService } from './modules/comments/comment.service.js';
import { TypingService } from './modules/comments/typing.service.js';
import type { StateStores } from './state-stores.js';

export interface ServiceDeps {
  readonly config: Config;
  /** The Prisma client with the publishing extensions. */
  readonly db: HeraldDb;
  /** Plain SQL for hot writes no extension needs to see (connection records). */
  readonly sql: SqlQuery;
  readonly pubsub: PubSub;
  readonly stores: StateStores;
  readonly postAuthors: PostAuthors;
  /** Rows of post events, primed by the publishing extension (see app.ts). */
  readonly postEventRows: EventScopedLoader<Post | null>;
  readonly logger: Logger;
  readonly metrics?: HeraldMetrics;
}

/** Every service of one app. Building them starts nothing: `start()` does (timers, topic listeners). */
export interface AppServices extends Services {
  readonly revocations: SessionRevocations;
  /** Finalises abandoned WebSocketConnection records and deletes old ones (periodic job + CLI `cleanup`). */
  readonly connectionCleanup: ConnectionCleanupService;
  start(): void;
  /** Stops timers and listeners; finalises connection records first, while the database and Redis are up. */
  stop(): Promise<void>;
}

/** Builds the services in dependency order (no setter injection) from what the app opened. */
export function createServices(deps: ServiceDeps): AppServices {
  const { config, db, pubsub, stores, logger } = deps;
  const onError = (error: unknown, what: string) => logger.warn({ err: error }, `${what} failed`);
  const revocations = new SessionRevocations(db);
  const auth = new AuthService(
    db,
    pubsub,
    { secret: config.jwt.secret, issuer: config.jwt.issuer, audience: config.jwt.audience, accessTtlMs: config.jwt.accessTtlMs, refreshTtlMs: config.jwt.refreshTtlMs },
    revocations,
  );
  const users = new UserService(db);
  const notifications = new NotificationService(db, users);
  const posts = new PostService({ db, pubsub, sink: notifications, authors: deps.postAuthors, eventRows: deps.postEventRows, onError });
  const comments = new CommentService(db, posts, notifications, onError);
  const connections = new ConnectionRegistry({
    settings: {
      instanceId: config.instanceId,
      heartbeatIntervalMs: config.ws.heartbeatIntervalMs,
      connectionTimeoutMs: config.ws.connectionTimeoutMs,
      maxConnectionsPerUser: config.ws.maxConnectionsPerUser,
      maxSubscriptionsPerConnection: config.ws.maxSubscriptionsPerConnection,
      maxOperationsPerSecond: config.ws.maxOperationsPerSecond,
    },
    records: config.ws.trackConnections ? new ConnectionRecords(deps.sql, logger) : null,
    slots: stores.connectionSlots,
    stats: stores.instanceStats,
    pubsub,
    logger,
    metrics: deps.metrics,
  });
  const analytics = new AnalyticsService({
    db,
    pubsub,
    visitorStore: stores.visitors,
    connectionEvents: connections.events,
    minIntervalMs: config.analytics.minIntervalMs,
    maxIntervalMs: config.analytics.maxIntervalMs,
    onError,
  });
  const typing = new TypingService(stores.typing, posts, pubsub, connections.events, onError);
  const connectionCleanup = new ConnectionCleanupService(db, logger);
  return {
    auth,
    revocations,
    users,
    posts,
    health: new HealthService(db, pubsub, config.instanceId),
    rateLimits: new RateLimits(stores.rateLimits),
    connections,
    analytics,
    connectionCleanup,
    notifications,
    comments,
    typing,
    start() {
      auth.start();
      posts.start();
      connections.start();
      analytics.start();
      typing.start();
      connectionCleanup.startPeriodic(config.ws.cleanupIntervalMs, {
        retentionMs: config.ws.cleanupRetentionMs,
        staleAfterMs: ConnectionCleanupService.staleAfterFor(config.ws.connectionTimeoutMs, config.ws.heartbeatIntervalMs),
      });
    },
    async stop() {
      await connections.stop();
      auth.stop();
      posts.stop();
      analytics.stop();
      typing.stop();
      await connectionCleanup.stop();
    },
  };
}
