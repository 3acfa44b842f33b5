import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plugin } from 'graphql-yoga';
import type { Config } from './shared/config.js';
import { createLogger, type Logger } from './shared/logger.js';
import { EventScopedLoader } from './shared/event-scoped-loader.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './data/embedded.js';
import { applyMigrations } from './data/migrate.js';
import { createPrismaClient, createSqlConnection, type DatabaseTarget, type HeraldDb, type PrismaClient } from './data/db.js';
import { PostAuthors } from './data/post-authors.js';
import { EventLog, keepEventLogFor } from './data/event-log.js';
import { publishPostEvents } from './data/extensions/publish-post-events.js';
import { publishCommentEvents } from './data/extensions/publish-comment-events.js';
import { publishNotificationEvents } from './data/extensions/publish-notification-events.js';
import type { Post } from './generated/prisma/client.js';
import { createMemoryEngine } from './realtime/memory-engine.js';
import { createRedisEngine } from './realtime/redis-engine.js';
import { connectRedis, type RedisClient } from './realtime/redis-connection.js';
import { PubSub } from './realtime/pubsub.js';
import { DurableFeed } from './realtime/durable-feed.js';
import { schema } from './graphql/schema.js';
import { errorMask } from './graphql/pipeline.js';
import { loadTrustedDocuments } from './graphql/trusted-documents.js';
import { createServices, type AppServices } from './services.js';
import { createStateStores } from './state-stores.js';
import { createContextFactory, type Authenticate } from './transport/context-factory.js';
import { createHeraldYoga, type HeraldYoga } from './transport/http/yoga.js';
import { handleProbe } from './transport/http/probes.js';
import { sseConnectionsPlugin } from './transport/http/sse-connections.js';
import { handleMetrics } from './transport/http/metrics-endpoint.js';
import { attachWebSockets, type WebSocketTransport } from './transport/ws/websocket-server.js';
import { OperationRunner } from './transport/ws/operation-runner.js';
import { graphqlTransportWs } from './transport/ws/graphql-transport-ws.js';
import { legacyEndpoints } from './transport/legacy-endpoints/routes.js';
import { LEGACY_SUBPROTOCOL, subscriptionsTransportWs } from './transport/ws/subscriptions-transport-ws.js';
import { legacyKeepAliveInterval } from './transport/ws/legacy-keep-alive.js';
import { HeraldMetrics } from './metrics/metrics.js';

/**
 * Pending connections the kernel may queue for accept() (Node's default is 511). When every client reconnects
 * at once (a deploy, a network blip), connections not accepted yet wait there instead of their handshakes being
 * dropped, which costs each such client a TCP retransmit of 1, 3, 7, 15 or 31 s. Linux caps it at
 * net.core.somaxconn (4096 by default since 5.4), so an operator raises that sysctl for larger storms.
 */
const LISTEN_BACKLOG = 65_535;

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
  readonly services: AppServices;
  readonly yoga: HeraldYoga;
  readonly server: Server;
  readonly ws: WebSocketTransport;
  readonly databaseUrl: string;
  /** The durable events (retention, tests). */
  readonly eventLog: EventLog;
  /** Stops reading the event log and pruning it. */
  readonly stopFeed: () => Promise<void>;
}

export interface BuildOptions {
  readonly logger?: Logger;
  /**
   * Envelop plugins added to the pipeline every transport runs (tracing, response hooks). A plugin that
   * acts on each subscription result (`onSubscribeResult` returning `onNext`) applies on every transport;
   * WebSocket subscriptions then pull their results through it instead of being pushed.
   */
  readonly plugins?: readonly Plugin<Record<string, unknown>>[];
}

/** Wires Herald together. Importing this module has no side effects; nothing runs before start(). */
export function buildApp(config: Config, options: BuildOptions = {}): HeraldApp {
  const logger = options.logger ?? createLogger(config.logLevel, { instanceId: config.instanceId });
  let runtime: AppRuntime | null = null;
  let embedded: EmbeddedDatabase | null = null;

  async function start(port = config.port): Promise<number> {
    if (config.jwt.usingDevSecret) {
      logger.warn('JWT_SECRET is not set: using the built-in development secret. Anyone can forge tokens. Set JWT_SECRET outside development.');
    }
    const startedAt = Date.now();
    // First: a bad manifest stops start-up before anything else is opened.
    const trustedDocuments = loadTrustedDocuments(config.trustedDocuments);
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      embedded = await startEmbeddedDatabase(config.dataDir, { holder: `a running Herald server (PORT ${config.port})` });
      databaseUrl = embedded.url;
      logger.info({ dataDir: config.dataDir }, 'embedded database (PGlite) started');
    }
    const migrated = await applyMigrations(databaseUrl, { log: (line) => logger.info(line) });
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'migrations applied');
    if (embedded) await embedded.closeSocket();

    const metrics = new HeraldMetrics({ instance: config.instanceId });
    const target: DatabaseTarget = embedded ? { kind: 'embedded', pglite: embedded.pglite } : { kind: 'postgresql', url: databaseUrl, poolSize: 10 };
    const baseDb = createPrismaClient(target);
    // Durable events (posts, comments, notifications) reach subscribers from the event log, in commit order.
    const sql = createSqlConnection(target, (error) => logger.warn({ err: error }, 'SQL connection lost (event log, connection records)'));
    const eventLog = new EventLog(sql.query);
    const feed = new DurableFeed(eventLog, logger, config.eventLog.pollIntervalMs);
    const { pubsub, stateRedis } = openPubSub(config, logger, metrics, feed);
    // Post writes hand their written row to local subscribers.
    const postAuthors = new PostAuthors(baseDb);
    const postEventRows = new EventScopedLoader<Post | null>((id) => baseDb.post.findUnique({ where: { id } }));
    const db = baseDb
      .$extends(publishPostEvents({ pubsub, logger, sql: sql.query, onWritten: (row, version) => postEventRows.prime(`${row.id}:${version}`, row) }))
      .$extends(publishCommentEvents(pubsub, logger))
      .$extends(publishNotificationEvents(pubsub, logger)) as unknown as HeraldDb;
    const stores = createStateStores(config, stateRedis, (error, what) => logger.warn({ err: error }, `${what} failed`));
    const services = createServices({ config, db, sql: sql.query, pubsub, stores, postAuthors, postEventRows, logger, metrics });
    const authenticate: Authenticate = (token) => services.auth.authenticate(token);

    const yoga = createHeraldYoga({
      schema,
      config,
      logger,
      context: createContextFactory({ services, pubsub, authenticate, trustedProxies: config.trustedProxies }),
      plugins: [sseConnectionsPlugin(services.connections), ...(options.plugins ?? [])],
      trustedDocuments,
    });
    const server = createServer((req, res) => void route(req, res));
    const runner = new OperationRunner({
      pipeline: yoga.getEnveloped,
      connections: services.connections,
      authenticate,
      authRequired: config.ws.authRequired,
      mask: errorMask(config),
      trustedDocuments,
      logger,
    });
    const ws = attachWebSockets({
      server,
      logger,
      path: '/graphql',
      protocols: new Map([
        [
          'graphql-transport-ws',
          graphqlTransportWs({ runner, connections: services.connections, authenticate, initTimeoutMs: config.ws.initTimeoutMs, instanceId: config.instanceId, logger }),
        ],
        // After graphql-transport-ws: a client offering both gets that one (the map's order is the preference).
        [
          LEGACY_SUBPROTOCOL,
          subscriptionsTransportWs({ runner, connections: services.connections, authenticate, initTimeoutMs: config.ws.initTimeoutMs, keepAliveMs: legacyKeepAliveInterval(config.ws.heartbeatIntervalMs), logger }),
        ],
      ]),
      // The old system's /ws/... endpoints, over the same runner and registry (WS_LEGACY_ENDPOINTS).
      routes: config.ws.legacyEndpoints
        ? legacyEndpoints({ runner, connections: services.connections, authenticate, heartbeatIntervalMs: config.ws.heartbeatIntervalMs, documentIds: config.trustedDocuments.mode !== 'off', logger })
        : undefined,
      allowedOrigins: config.allowedOrigins,
      trustedProxies: config.trustedProxies,
      maxPayloadBytes: config.ws.maxPayloadBytes,
      sendBufferBytes: config.ws.sendBufferBytes,
      heartbeatIntervalMs: config.ws.heartbeatIntervalMs,
    });
    await pubsub.start();
    services.start();
    const stopRetention = keepEventLogFor(eventLog, config.eventLog.retentionMs, (error) => logger.warn({ err: error }, 'event log retention failed'));

    async function route(req: IncomingMessage, res: ServerResponse) {
      try {
        if (await handleProbe(req, res, () => services.health.report())) return;
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
      server.listen({ port, host: config.host, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = (server.address() as AddressInfo).port;
    runtime = { db, pubsub, services, yoga, server, ws, databaseUrl, eventLog, stopFeed: async () => {
        stopRetention();
        feed.stop();
        await sql.close();
      } };
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
      await current.services.stop();
      await current.stopFeed();
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
function openPubSub(config: Config, logger: Logger, metrics: HeraldMetrics, feed: DurableFeed): { pubsub: PubSub; stateRedis: RedisClient | null } {
  const limits = { capacity: config.ws.queueCapacity, expiryMs: config.ws.eventExpiryMs };
  const target = { url: config.redisUrl, clusterNodes: config.redisClusterNodes };
  if (!config.redisUrl && !config.redisClusterNodes?.length) {
    return { pubsub: new PubSub(createMemoryEngine(), limits, config.redisPrefix, metrics.pubsubObserver(), feed), stateRedis: null };
  }
  const publisher = connectRedis(target, 'publisher', logger);
  const subscriber = connectRedis(target, 'subscriber', logger);
  // Publisher doubles as the command connection: both only send commands, and one fewer socket per instance.
  return { pubsub: new PubSub(createRedisEngine(publisher, subscriber, { sharded: config.redisShardedPubSub }), limits, config.redisPrefix, metrics.pubsubObserver(), feed), stateRedis: publisher };
}
