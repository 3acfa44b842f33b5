import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from './shared/config.js';
import { createLogger } from './shared/logger.js';
import { createClusterMetrics } from './metrics/cluster-metrics.js';

/** A worker that dies sooner than this after it was forked counts as a failed start. */
const FAST_FAILURE_MS = 10_000;
/** Longest wait before re-forking a worker that keeps failing at start. */
const MAX_RESTART_DELAY_MS = 30_000;
/** Workers drain within their own 10 s bound (main.ts); this only catches one that hangs. */
const SHUTDOWN_GRACE_MS = 15_000;

/**
 * The primary of `WEB_CONCURRENCY` workers (node:cluster): it forks them, and they share the port (the
 * primary accepts connections and hands them out in turn). Each worker is a full Herald instance with
 * its own INSTANCE_ID (`<INSTANCE_ID or host-pid>-w<n>`, n counting every fork), its own database
 * pool and Redis connections; they meet in PostgreSQL and Redis as separate instances do. A worker
 * that dies is forked again (with growing delays while it keeps dying at start). SIGTERM or SIGINT
 * drains every worker (each closes its sockets with 1001 and finalises its records) and exits 0 when
 * all of them did, 1 otherwise. The primary runs no Herald code and opens no database; with
 * CLUSTER_METRICS_PORT it serves every worker's metrics there (each scrape of the shared port's
 * /metrics reaches one worker only).
 */
export function runPrimary(config: Config, env: NodeJS.ProcessEnv = process.env): void {
  const logger = createLogger(config.logLevel, { role: 'primary' });
  const base = env.INSTANCE_ID || `${hostname()}-${process.pid}`;
  const forkedAt = new Map<Worker, number>();
  let forks = 0;
  let fastFailures = 0;
  let listening = 0;
  let stopping = false;
  let exitCode = 0;
  const metricsServer = config.clusterMetricsPort === undefined ? null : serveClusterMetrics(config, logger);

  const fork = () => {
    if (stopping) return;
    forks += 1;
    const worker = cluster.fork({ INSTANCE_ID: `${base}-w${forks}` });
    forkedAt.set(worker, Date.now());
  };

  cluster.on('listening', (worker, address) => {
    listening += 1;
    // Only the first full start is announced; a restarted worker logs its own "Herald listening".
    if (listening === config.webConcurrency) logger.info({ workers: config.webConcurrency, port: address.port }, `all ${config.webConcurrency} workers accepting on port ${address.port}`);
    logger.debug({ worker: worker.id, pid: worker.process.pid }, 'worker listening');
  });

  cluster.on('exit', (worker, code, signal) => {
    const ranMs = Date.now() - (forkedAt.get(worker) ?? Date.now());
    forkedAt.delete(worker);
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (forkedAt.size === 0) {
        logger.info({ code: exitCode }, 'all workers stopped');
        process.exit(exitCode);
      }
      return;
    }
    // A worker failing at start (database unreachable, port taken) is retried with growing delays, not in a tight loop.
    fastFailures = ranMs < FAST_FAILURE_MS ? fastFailures + 1 : 0;
    const delay = fastFailures === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (fastFailures - 1));
    logger.error({ worker: worker.id, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited; starting another');
    setTimeout(fork, delay);
  });

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: forkedAt.size }, 'shutting down: draining every worker');
    metricsServer?.close();
    if (forkedAt.size === 0) process.exit(0);
    // SIGTERM each worker (a terminal's Ctrl-C has already sent them SIGINT; their handler runs once).
    for (const worker of forkedAt.keys()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      logger.error({ workers: forkedAt.size }, 'workers did not drain in time; killing them');
      for (const worker of forkedAt.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  logger.info({ workers: config.webConcurrency }, `starting ${config.webConcurrency} workers`);
  for (let i = 0; i < config.webConcurrency; i++) fork();
}

/** GET /metrics on CLUSTER_METRICS_PORT: every worker's series in one scrape. */
function serveClusterMetrics(config: Config, logger: Logger): Server {
  const metrics = createClusterMetrics();
  const server = createServer((req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.collect().then(
      (body) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'collecting worker metrics failed');
        res.writeHead(503, { 'content-type': 'text/plain' }).end('worker metrics unavailable\n');
      },
    );
  });
  server.on('error', (error) => {
    logger.fatal({ err: error, port: config.clusterMetricsPort }, 'cannot serve CLUSTER_METRICS_PORT');
    process.exit(1);
  });
  server.listen(config.clusterMetricsPort, config.host, () => {
    const { port } = server.address() as AddressInfo;
    logger.info({ port }, `worker metrics on http://${config.host}:${port}/metrics`);
  });
  return server;
}
