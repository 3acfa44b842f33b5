import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './shared/config.js';
import { EmbeddedDatabaseInUseError } from './data/data-dir-lock.js';
import { runPrimary } from './cluster.js';

/**
 * Entry point: config → app → listen; SIGTERM/SIGINT drain gracefully, bounded so the process always
 * exits. With WEB_CONCURRENCY > 1 this process becomes the primary of that many workers (cluster.ts),
 * each of which runs this same entry point as a full instance.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    runPrimary(config);
    return;
  }
  // Loaded here, not at the top: a bad configuration is reported without loading the server, and a
  // cluster primary never needs the app's modules in its memory.
  const { buildApp } = await import('./app.js');
  const app = buildApp(config);
  try {
    await app.start();
  } catch (error) {
    if (error instanceof EmbeddedDatabaseInUseError) {
      // Not a fault to investigate: one line saying who holds the data dir and what to do.
      process.stderr.write(`${error.message}\n`);
      await app.stop().catch(() => undefined);
      process.exit(1);
    }
    app.logger.fatal({ err: error }, 'Herald failed to start');
    await app.stop().catch(() => undefined);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
