import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './shared/config.js';
import { createLogger, type Logger } from './shared/logger.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './data/embedded.js';
import { applyMigrations } from './data/migrate.js';
import { createPrismaClient, type PrismaClient } from './data/db.js';
import { publishPostEvents } from './data/extensions/publish-post-events.js';
import type { Post } from './generated/prisma/client.js';
import { publishCommentEvents } from './data/extensions/publish-comment-events.js';
import { publishNotificationEvents } from './data/extensions/publish-notification-events.js';
import { createMemoryEngine } from './realtime/memory-engine.js';
import { createRedisEngine } from './realtime/redis-engine.js';
import { connectRedis, type RedisClient } from './realtime/redis-connection.js';
import { PubSub } from './realtime/pubsub.js';
import { topics } from './realtime/topics.js';
import { ConnectionEvents } from './modules/connections/connection-events.js';
import { createServices, type Services } from './services.js';
import { schema } from './graphql/schema.js';
import { createContextFactory } from './transport/context-factory.js';
import { createHeraldYoga, type HeraldYoga } from './transport/http/yoga.js';
import { queryLimitPlugins } from './graphql/plugins/query-limits.js';
import { SharedSubscriptions } from './graphql/plugins/shared-execution.js';
import { attachWebSocketTransport, type ConnectionLifecycle, type WebSocketTransport } from './transport/ws/websocket-transport.js';
import { handleProbe } from './transport/http/probes.js';
import { handleMetrics } from './transport/http/metrics-endpoint.js';
import { HeraldMetrics } from './metrics/metrics.js';

export interface HeraldApp {
  readonly config: Config;
  readonly logger: Logger;
  /** Starts dependencies and listens; resolves with the bound port (pass 0 for a free one). */
  start(port?: number): Promise<number>;
  /** Graceful: refuse new work, close sockets with 1001, finalise records, close dependencies. */
  stop(): Promise<void>;
  /** Available after start(). */
  readonly runtime: AppRuntime;
}

export interface AppRuntime {
  readonly db: PrismaClient;
  readonly pubsub: PubSub;
  readonly services: Services;
  readonly yoga: HeraldYoga;
  readonly server: Server;
  readonly ws: WebSocketTransport;
  readonly databaseUrl: string;
}

export interface BuildOptions {
  readonly logger?: Logger;
}

/** Wires Herald together. Importing this module has no side effects; nothing runs before start(). */
export function buildApp(config: Config, options: BuildOptions = {}): HeraldApp {
  const logger = options.logger ?? createLogger(config.logLevel, { instanceId: config.instanceId });
  let runtime: AppRuntime | null = null;
  let embedded: EmbeddedDatabase | null = null;
  const cleanups: (() => Promise<void> | void)[] = [];

  async function start(port = config.port): Promise<number> {
    if (config.jwt.usingDevSecret) {
      logger.warn('JWT_SECRET is not set: using the built-in development secret. Anyone can forge tokens. Set JWT_SECRET outside development.');
    }
    const startedAt = Date.now();
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      embedded = await startEmbeddedDatabase(config.dataDir);
      databaseUrl = embedded.url;
      logger.info({ dataDir: config.dataDir }, 'embedded database (PGlite) started');
    }
    const migrated = await applyMigrations(databaseUrl, { log: (line) => logger.info(line) });
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'migrations applied');
    if (embedded) await embedded.closeSocket();

    const metrics = new HeraldMetrics({ instance: config.instanceId });
    const { pubsub, stateRedis } = openPubSub(config, logger, metrics);
    const baseDb = createPrismaClient(embedded ? { kind: 'embedded', pglite: embedded.pglite } : { kind: 'postgresql', url: databaseUrl, poolSize: 10 });
    // Comment events need the post's author; PostService caches it, but it is built on this client: bind late.
    let postAuthorOf: (postId: string) => Promise<string | null> = async () => null;
    // Local subscribers of a post event read the row this write returned instead of loading it again.
    let postWritten: (row: Post, eventId: string) => void = () => undefined;
    const db = baseDb
      .$extends(publishPostEvents(pubsub, logger, (row, eventId) => postWritten(row, eventId)))
      .$extends(publishCommentEvents(pubsub, logger, (postId) => postAuthorOf(postId)))
      .$extends(publishNotificationEvents(pubsub, logger)) as unknown as PrismaClient;
    const connectionEvents = new ConnectionEvents();
    const services = createServices({ config, db, pubsub, redis: stateRedis, logger, connectionEvents, metrics });
    postAuthorOf = (postId) => services.posts.authorIdOf(postId);
    postWritten = (row, eventId) => services.posts.rememberForEvent(row, eventId);

    const yoga = createHeraldYoga({
      schema,
      config,
      logger,
      context: createContextFactory({ services, pubsub, trustedProxies: config.trustedProxies }),
      // Subscription events are executed once per shape and shared (graphql/plugins/shared-execution.ts).
      plugins: [...queryLimitPlugins(config.graphqlLimits), new SharedSubscriptions().plugin()],
    });
    const server = createServer((req, res) => void route(req, res));
    // Records, per-user cap, limits and metrics; it also forwards opens/closes to ConnectionEvents.
    const lifecycle: ConnectionLifecycle = services.connections.lifecycle;
    const ws = attachWebSocketTransport({ server, yoga, services, config, logger, lifecycle });

    // Not awaited: with Redis down at start-up the SUBSCRIBE waits for it, and the server must still start.
    const revocationListener = pubsub.listen(topics.sessionRevoked(), (event) => {
      services.revocations.markRevoked(event.sessionId);
      ws.closeSession(event.sessionId, 'Session revoked');
    });
    revocationListener.catch((error: unknown) => logger.error({ err: error }, 'session revocation listener failed'));
    cleanups.push(() => void revocationListener.then((unsubscribe) => unsubscribe(), () => undefined));

    async function route(req: IncomingMessage, res: ServerResponse) {
      try {
        if (await handleProbe(req, res, services)) return;
        if (await handleMetrics(req, res, metrics)) return;
        await yoga.handle(req, res, { req });
      } catch (error) {
        logger.error({ err: error }, 'request handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }));
      }
    }

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = (server.address() as AddressInfo).port;
    runtime = { db, pubsub, services, yoga, server, ws, databaseUrl };
    logger.info({ port: bound, ms: Date.now() - startedAt, pubsub: pubsub.kind, database: embedded ? 'embedded' : 'postgresql' }, `Herald listening on http://localhost:${bound}/graphql`);
    return bound;
  }

  async function stop(): Promise<void> {
    const current = runtime;
    runtime = null;
    if (current) {
      current.services.connections.beginShutdown();
      await current.ws.dispose();
      current.server.closeAllConnections();
      await new Promise<void>((resolve) => current.server.close(() => resolve()));
      await current.yoga.dispose();
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await current.services.stop();
      await current.pubsub.close();
      await current.db.$disconnect();
    }
    if (embedded) {
      await embedded.stop();
      embedded = null;
    }
  }

  return {
    config,
    logger,
    start,
    stop,
    get runtime(): AppRuntime {
      if (!runtime) throw new Error('Herald is not running: call start() first');
      return runtime;
    },
  };
}

/** Redis (two connections: publish + state commands, subscribe) when configured, else in-process. */
function openPubSub(config: Config, logger: Logger, metrics: HeraldMetrics): { pubsub: PubSub; stateRedis: RedisClient | null } {
  const limits = { capacity: config.ws.queueCapacity, expiryMs: config.ws.eventExpiryMs };
  const target = { url: config.redisUrl, clusterNodes: config.redisClusterNodes };
  if (!config.redisUrl && !config.redisClusterNodes?.length) {
    return { pubsub: new PubSub(createMemoryEngine(), limits, config.redisPrefix, metrics.pubsubObserver()), stateRedis: null };
  }
  const publisher = connectRedis(target, 'publisher', logger);
  const subscriber = connectRedis(target, 'subscriber', logger);
  // Publisher doubles as the command connection: both only send commands, and one fewer socket per instance.
  return { pubsub: new PubSub(createRedisEngine(publisher, subscriber), limits, config.redisPrefix, metrics.pubsubObserver()), stateRedis: publisher };
}
