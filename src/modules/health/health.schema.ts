import { builder } from '../../graphql/builder.js';
import type { HealthReport } from './health.service.js';
import { EventStream } from '../../realtime/event-stream.js';

const DependencyStatusEnum = builder.enumType('DependencyStatus', { values: ['UP', 'DOWN', 'NOT_CONFIGURED'] as const });
const HealthStatusEnum = builder.enumType('HealthStatus', { values: ['OK', 'DEGRADED'] as const });

const HealthRef = builder.objectRef<HealthReport>('Health').implement({
  description: 'This instance and its dependencies. Needs no token.',
  fields: (t) => ({
    status: t.field({ type: HealthStatusEnum, resolve: (h) => h.status }),
    database: t.field({ type: DependencyStatusEnum, resolve: (h) => h.database }),
    redis: t.field({ type: DependencyStatusEnum, resolve: (h) => h.redis, description: 'NOT_CONFIGURED when running with in-process pub/sub.' }),
    instanceId: t.exposeString('instanceId'),
    uptimeSeconds: t.exposeInt('uptimeSeconds'),
    timestamp: t.field({ type: 'DateTime', resolve: (h) => h.timestamp }),
  }),
});

builder.queryField('health', (t) =>
  t.field({ type: HealthRef, description: 'Health of this instance (no token needed).', resolve: (_r, _a, ctx) => ctx.services.health.report() }),
);

builder.subscriptionField('health', (t) =>
  t.field({
    type: HealthRef,
    description: 'A health report now and then every `intervalSeconds` (1-300, default 10). No token needed.',
    args: { intervalSeconds: t.arg.int({ defaultValue: 10 }) },
    subscribe: (_r, args, ctx) => healthReports(ctx.services.health, Math.min(Math.max(args.intervalSeconds ?? 10, 1), 300) * 1000),
    resolve: (report) => report,
  }),
);

/** A report now, then one per interval; completing the subscription stops the timer at once. */
function healthReports(health: { report(): Promise<HealthReport> }, intervalMs: number): EventStream<HealthReport> {
  let timer: NodeJS.Timeout | undefined;
  const stream = new EventStream<HealthReport>({
    capacity: 1,
    overflow: 'keepLatest',
    expiryMs: Number.POSITIVE_INFINITY,
    onClose: () => clearInterval(timer),
  });
  const tick = () => void health.report().then((report) => stream.push(report));
  tick();
  timer = setInterval(tick, intervalMs);
  return stream;
}
