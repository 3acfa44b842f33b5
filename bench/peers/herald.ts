/**
 * Herald itself, configured only through the environment the harness passes (DATABASE_URL, REDIS_URL,
 * REDIS_PREFIX, WS_MAX_CONNECTIONS_PER_USER, ...). Same entry the product uses: loadConfig() → buildApp().
 */
import { loadConfig } from '../../src/shared/config.js';
import { buildApp } from '../../src/app.js';
import { announceReady, portFromEnv } from './common.js';

const app = buildApp(loadConfig());
const port = await app.start(portFromEnv());
process.on('SIGTERM', () => {
  const force = setTimeout(() => process.exit(1), 8000);
  force.unref();
  void app.stop().finally(() => process.exit(0));
});
announceReady({ port, ws: '/graphql', protocol: 'graphql-ws', pubsub: app.runtime.pubsub.kind });
