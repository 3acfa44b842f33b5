import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * Two projects run the same integration tests: `embedded` (PGlite + in-process pub/sub, nothing
 * installed) and `services` (PostgreSQL + Redis from TEST_DATABASE_URL / TEST_REDIS_URL, defaulting to
 * the local ones). Without CI a missing service skips the `services` project; with CI=true it fails.
 */
export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (`main`) and ESM (`module`) builds. Node loads the CJS one for every package;
    // Vite would hand our sources the ESM one, and GraphQLError instances from the two copies fail
    // instanceof checks inside graphql-ws. One copy, as in production.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration files mostly wait on sockets, timers and databases, not CPU: four at a time on two cores
    // roughly halves the wall time without making any file slower than its timeouts.
    maxWorkers: 4,
    // Test files share a worker's module cache (every file builds its own apps, so no state leaks through
    // modules): importing the server once per worker instead of once per file saves most of the CPU.
    isolate: false,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'embedded', include: ['test/integration/**/*.test.ts', 'test/clients/**/*.test.ts'], env: { HERALD_TEST_BACKEND: 'embedded' } },
      },
      {
        extends: true,
        test: { name: 'services', include: ['test/integration/**/*.test.ts', 'test/clients/**/*.test.ts'], env: { HERALD_TEST_BACKEND: 'services' } },
      },
    ],
  },
});
