import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** The dev-only secret used when JWT_SECRET is unset outside production (start-up warns loudly). */
export const DEV_JWT_SECRET = 'herald-dev-secret-do-not-use-in-production';

/**
 * Shortest JWT_SECRET accepted with NODE_ENV=production, in bytes (UTF-8): an HS256 key should be at least
 * as long as the hash output (RFC 7518 §3.2). Outside production 16 characters are enough.
 */
export const PRODUCTION_JWT_SECRET_MIN_BYTES = 32;

/** Variables whose value an error message must not repeat. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['JWT_SECRET']);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30s, 5m, 1h, 7d (a bare number means seconds)' });
    return z.NEVER;
  }
  return ms;
});

const positiveInt = z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').positive('expected a number above 0');

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'expected a postgresql:// URL');

const redisUrl = z.string().refine((v) => /^rediss?:\/\//.test(v), 'expected a redis:// or rediss:// URL');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number({ message: 'expected a port number' }).int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  REDIS_URL: redisUrl.optional(),
  REDIS_CLUSTER_NODES: csv.optional(),
  REDIS_PREFIX: z.string().regex(/^[a-zA-Z0-9:_-]{1,64}$/, 'expected 1-64 letters, digits, : _ or -').default('herald:'),
  JWT_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('herald'),
  JWT_AUDIENCE: z.string().min(1).default('herald-api'),
  JWT_ACCESS_TTL: duration.prefault('60m'),
  JWT_REFRESH_TTL: duration.prefault('7d'),
  WS_JWT_AUTH_REQUIRED: bool.default(true),
  WS_HEARTBEAT_INTERVAL: duration.prefault('30s'),
  WS_CONNECTION_TIMEOUT: duration.prefault('300s'),
  WS_INIT_TIMEOUT: duration.prefault('5s'),
  WS_MAX_CONNECTIONS_PER_USER: positiveInt.default(10),
  WS_CONNECTION_TRACKING: bool.default(true),
  WS_LEGACY_ENDPOINTS: bool.default(true),
  WS_CLEANUP_INTERVAL: duration.prefault('1h'),
  WS_CLEANUP_RETENTION: duration.prefault('24h'),
  WS_MAX_PAYLOAD_BYTES: positiveInt.default(65_536),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: positiveInt.default(100),
  WS_MAX_OPERATIONS_PER_SECOND: positiveInt.default(50),
  WS_SEND_BUFFER_BYTES: positiveInt.default(4_194_304),
  WS_QUEUE_CAPACITY: positiveInt.default(1500),
  WS_EVENT_EXPIRY: duration.prefault('60s'),
  // Resume (issue #12): durable events kept for replay, and the backstop read of the log.
  EVENT_LOG_RETENTION: duration.prefault('7d'),
  EVENT_LOG_POLL_INTERVAL: duration.prefault('5s'),
  TYPING_TTL: duration.prefault('5s'),
  ANALYTICS_MIN_INTERVAL: duration.prefault('1s'),
  ANALYTICS_MAX_INTERVAL: duration.prefault('30s'),
  ALLOWED_ORIGINS: csv.optional(),
  TRUSTED_PROXIES: csv.default([]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INSTANCE_ID: z.string().min(1).optional(),
  HTTP_MAX_BODY_BYTES: positiveInt.default(25_000_000),
  GRAPHQL_MAX_DEPTH: positiveInt.default(12),
  GRAPHQL_MAX_ALIASES: positiveInt.default(30),
  GRAPHQL_MAX_TOKENS: positiveInt.default(2000),
  GRAPHQL_MAX_COST: positiveInt.default(5000),
  // Security (issue #16): what the GraphQL endpoint reveals about its schema.
  GRAPHIQL: bool.default(true),
  GRAPHQL_INTROSPECTION: bool.default(true),
  /** Unset: on outside production, off in production. */
  GRAPHQL_FIELD_SUGGESTIONS: bool.optional(),
  // Deployment (issue #14): worker processes sharing the port.
  WEB_CONCURRENCY: z
    .union([z.literal('auto'), positiveInt], { message: 'expected a number above 0 or auto' })
    .transform((v) => (v === 'auto' ? availableParallelism() : v))
    .default(1),
  CLUSTER_METRICS_PORT: z.coerce.number({ message: 'expected a port number' }).int().min(0).max(65535).optional(),
  REDIS_SHARDED_PUBSUB: z.enum(['auto', 'true', 'false'], { message: 'expected auto, true or false' }).default('auto'),
  // Trusted documents (persisted operations): see src/graphql/trusted-documents.ts.
  TRUSTED_DOCUMENTS: z.enum(['only', 'allow', 'off'], { message: 'expected only, allow or off' }).default('allow'),
  TRUSTED_DOCUMENTS_MANIFEST: csv
    .superRefine((files, ctx) => {
      const missing = files.find((file) => !existsSync(file));
      if (missing !== undefined) ctx.addIssue({ code: 'custom', message: `no such file: ${missing}` });
    })
    .default([]),
});

type Env = z.infer<typeof envSchema>;

/** Every environment variable Herald reads (docs/configuration.md documents exactly these). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly port: number;
  readonly host: string;
  /** Unset: the embedded PGlite under `dataDir` serves the data. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Unset (and no cluster nodes): pub/sub and ephemeral state stay in this process. */
  readonly redisUrl: string | undefined;
  readonly redisClusterNodes: readonly string[] | undefined;
  /** Prefix of every Redis channel and key, so several deployments (or test runs) can share one Redis. */
  readonly redisPrefix: string;
  readonly jwt: {
    readonly secret: string;
    readonly usingDevSecret: boolean;
    readonly issuer: string;
    readonly audience: string;
    readonly accessTtlMs: number;
    readonly refreshTtlMs: number;
  };
  readonly ws: {
    readonly authRequired: boolean;
    readonly heartbeatIntervalMs: number;
    readonly connectionTimeoutMs: number;
    readonly initTimeoutMs: number;
    readonly maxConnectionsPerUser: number;
    readonly trackConnections: boolean;
    /** The old system's `/ws/...` endpoints (src/transport/legacy-endpoints/); false: those paths answer 404. */
    readonly legacyEndpoints: boolean;
    readonly cleanupIntervalMs: number;
    readonly cleanupRetentionMs: number;
    readonly maxPayloadBytes: number;
    readonly maxSubscriptionsPerConnection: number;
    readonly maxOperationsPerSecond: number;
    readonly sendBufferBytes: number;
    readonly queueCapacity: number;
    readonly eventExpiryMs: number;
  };
  /**
   * Durable events are kept `retentionMs` (the replay window: a cursor older than that is refused); each
   * instance reads the log at least every `pollIntervalMs` even when no doorbell reaches it.
   */
  readonly eventLog: { readonly retentionMs: number; readonly pollIntervalMs: number };
  readonly typingTtlMs: number;
  /** The staff dashboard pushes at most once per `minIntervalMs` and at least once per `maxIntervalMs`. */
  readonly analytics: { readonly minIntervalMs: number; readonly maxIntervalMs: number };
  /** undefined: any origin (development only). */
  readonly allowedOrigins: readonly string[] | undefined;
  readonly trustedProxies: readonly string[];
  readonly logLevel: Env['LOG_LEVEL'];
  readonly instanceId: string;
  /** Larger GraphQL request bodies over HTTP are refused (413, REQUEST_ENTITY_TOO_LARGE). */
  readonly httpMaxBodyBytes: number;
  readonly graphqlLimits: { readonly maxDepth: number; readonly maxAliases: number; readonly maxTokens: number; readonly maxCost: number };
  // Security (issue #16): what the GraphQL endpoint reveals about its schema.
  /** GraphiQL on GET /graphql from a browser. */
  readonly graphiql: boolean;
  /** false: `__schema` / `__type` are refused (FORBIDDEN) on every transport; `__typename` still works. */
  readonly graphqlIntrospection: boolean;
  /** false: "Did you mean …?" is cut from validation and variable errors. */
  readonly graphqlFieldSuggestions: boolean;
  // Deployment (issue #14).
  /** Herald processes sharing the port (node:cluster); 1 runs this process alone, as before. */
  readonly webConcurrency: number;
  /** With several workers, the primary serves all of their metrics on this port; unset: not served. */
  readonly clusterMetricsPort: number | undefined;
  /** On a Redis Cluster: SPUBLISH/SSUBSCRIBE when the servers have them ('auto'), always, or never (classic). */
  readonly redisShardedPubSub: 'auto' | boolean;
  // Trusted documents (persisted operations).
  readonly trustedDocuments: {
    /** `only`: trusted documents alone run; `allow`: ids resolve and any text runs too; `off`: ids are not understood. */
    readonly mode: 'only' | 'allow' | 'off';
    /** Manifests of client builds, read in addition to the generated one (src/generated/graphql/persisted-documents.json). */
    readonly manifestFiles: readonly string[];
  };
}

/** Thrown for invalid configuration; `message` is the one line start-up prints. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once. Throws ConfigError whose message names the first bad variable
 * and what was expected, so start-up can stop with one clear line.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" so `FOO= npm start` falls back to the default instead of failing.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const got = source[variable];
    const shown = SECRET_VARIABLES.has(variable) ? `<${(got ?? '').length} characters, not shown>` : JSON.stringify(got ?? '');
    throw new ConfigError(`Invalid configuration: ${variable}=${shown}: ${issue?.message ?? 'invalid'}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new ConfigError('Invalid configuration: JWT_SECRET is required when NODE_ENV=production');
  }
  if (e.NODE_ENV === 'production' && e.JWT_SECRET === DEV_JWT_SECRET) {
    // The development default is in the public source: anyone could forge tokens with it.
    throw new ConfigError('Invalid configuration: JWT_SECRET is the published development secret; set a random one (e.g. `openssl rand -base64 48`) when NODE_ENV=production');
  }
  if (e.NODE_ENV === 'production' && e.JWT_SECRET && Buffer.byteLength(e.JWT_SECRET, 'utf8') < PRODUCTION_JWT_SECRET_MIN_BYTES) {
    throw new ConfigError(
      `Invalid configuration: JWT_SECRET must be at least ${PRODUCTION_JWT_SECRET_MIN_BYTES} bytes when NODE_ENV=production (it has ${Buffer.byteLength(e.JWT_SECRET, 'utf8')}); e.g. \`openssl rand -base64 48\``,
    );
  }
  if (e.NODE_ENV === 'production' && !e.ALLOWED_ORIGINS) {
    throw new ConfigError('Invalid configuration: ALLOWED_ORIGINS is required when NODE_ENV=production');
  }
  // Several workers are several instances: they need a database and a Redis they can all share.
  const workers = cleaned.WEB_CONCURRENCY === 'auto' ? `auto (${e.WEB_CONCURRENCY})` : String(e.WEB_CONCURRENCY);
  if (e.WEB_CONCURRENCY > 1 && !e.DATABASE_URL) {
    throw new ConfigError(`Invalid configuration: WEB_CONCURRENCY=${workers} needs DATABASE_URL: the embedded database (PGlite) belongs to one process`);
  }
  if (e.WEB_CONCURRENCY > 1 && !e.REDIS_URL && !e.REDIS_CLUSTER_NODES?.length) {
    throw new ConfigError(`Invalid configuration: WEB_CONCURRENCY=${workers} needs REDIS_URL or REDIS_CLUSTER_NODES: workers share events and limits through Redis`);
  }
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    redisPrefix: e.REDIS_PREFIX,
    jwt: {
      secret: e.JWT_SECRET ?? DEV_JWT_SECRET,
      usingDevSecret: !e.JWT_SECRET,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTtlMs: e.JWT_ACCESS_TTL,
      refreshTtlMs: e.JWT_REFRESH_TTL,
    },
    ws: {
      authRequired: e.WS_JWT_AUTH_REQUIRED,
      heartbeatIntervalMs: e.WS_HEARTBEAT_INTERVAL,
      connectionTimeoutMs: e.WS_CONNECTION_TIMEOUT,
      initTimeoutMs: e.WS_INIT_TIMEOUT,
      maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
      trackConnections: e.WS_CONNECTION_TRACKING,
      legacyEndpoints: e.WS_LEGACY_ENDPOINTS,
      cleanupIntervalMs: e.WS_CLEANUP_INTERVAL,
      cleanupRetentionMs: e.WS_CLEANUP_RETENTION,
      maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      maxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxOperationsPerSecond: e.WS_MAX_OPERATIONS_PER_SECOND,
      sendBufferBytes: e.WS_SEND_BUFFER_BYTES,
      queueCapacity: e.WS_QUEUE_CAPACITY,
      eventExpiryMs: e.WS_EVENT_EXPIRY,
    },
    eventLog: { retentionMs: e.EVENT_LOG_RETENTION, pollIntervalMs: e.EVENT_LOG_POLL_INTERVAL },
    typingTtlMs: e.TYPING_TTL,
    analytics: { minIntervalMs: e.ANALYTICS_MIN_INTERVAL, maxIntervalMs: e.ANALYTICS_MAX_INTERVAL },
    allowedOrigins: e.ALLOWED_ORIGINS,
    trustedProxies: e.TRUSTED_PROXIES,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    httpMaxBodyBytes: e.HTTP_MAX_BODY_BYTES,
    graphqlLimits: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxCost: e.GRAPHQL_MAX_COST,
    },
    graphiql: e.GRAPHIQL,
    graphqlIntrospection: e.GRAPHQL_INTROSPECTION,
    graphqlFieldSuggestions: e.GRAPHQL_FIELD_SUGGESTIONS ?? e.NODE_ENV !== 'production',
    webConcurrency: e.WEB_CONCURRENCY,
    clusterMetricsPort: e.CLUSTER_METRICS_PORT,
    redisShardedPubSub: e.REDIS_SHARDED_PUBSUB === 'auto' ? 'auto' : e.REDIS_SHARDED_PUBSUB === 'true',
    trustedDocuments: { mode: e.TRUSTED_DOCUMENTS, manifestFiles: e.TRUSTED_DOCUMENTS_MANIFEST },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
