/**
 * Herald's layers, lowest first; a file may import only from its own layer or those below it:
 *   shared (config, logger, errors, close codes, small utilities)
 *   realtime, data, metrics (pub/sub and streams; Prisma; Prometheus)
 *   modules (one folder a feature: services, stores, their twins)
 *   graphql (builder, context, schema, plugins, delivery) and every module's `*.schema.ts`
 *   transport (HTTP, one adapter per WebSocket protocol)
 *   composition root (app.ts, main.ts, services.ts, state-stores.ts, cli/)
 * `npm test` runs these rules (test/unit/layers.test.ts); docs/ARCHITECTURE.md draws them.
 */
const SCHEMA = '^src/modules/[^/]+/[^/]+\\.schema\\.ts$';
const ROOT = '^src/(app|main|services|state-stores|cluster)\\.ts$|^src/cli/';

/** A rule forbidding `from` (a layer) to import any of `to` (layers above it). */
const below = (name, from, to, fromNot) => ({
  name,
  severity: 'error',
  comment: `${name}: imports only point down the layers (see the head of .dependency-cruiser.cjs)`,
  from: fromNot ? { path: from, pathNot: fromNot } : { path: from },
  to: { path: to },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle', from: {}, to: { circular: true } },
    below('shared-imports-only-shared', '^src/shared/', '^src/(?!shared/)'),
    below('realtime-below-data-and-up', '^src/realtime/', '^src/(data|metrics|modules|graphql|transport)/|' + ROOT),
    below('data-below-modules', '^src/data/', '^src/(metrics|modules|graphql|transport)/|' + ROOT),
    below('metrics-below-modules', '^src/metrics/', '^src/(data|modules|graphql|transport)/|' + ROOT),
    below('modules-below-graphql', '^src/modules/', '^src/(graphql|transport)/|' + SCHEMA + '|' + ROOT, SCHEMA),
    below('graphql-below-transport', '^src/graphql/|' + SCHEMA, '^src/transport/|' + ROOT),
    below('transport-below-root', '^src/transport/', ROOT),
  ],
  options: {
    // Generated code (Prisma's client, codegen's types) is a dependency, not ours to layer.
    doNotFollow: { path: ['node_modules', '^src/generated/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
