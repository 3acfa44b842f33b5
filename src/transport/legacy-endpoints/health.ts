import { LegacyHealthDocument, type LegacyHealthQuery } from '../../generated/graphql/graphql.js';
import type { EndpointSession, LegacyEndpoint } from './endpoint.js';

type Health = LegacyHealthQuery['health'];

/** The old `status` word: `healthy` for OK, `degraded` otherwise. */
const statusOf = (health: Health): string => (health.status === 'OK' ? 'healthy' : 'degraded');

function details(health: Health): Record<string, unknown> {
  return {
    status: statusOf(health),
    database: health.database.toLowerCase(),
    redis: health.redis.toLowerCase(),
    instance_id: health.instanceId,
    uptime_seconds: health.uptimeSeconds,
  };
}

/** `query health` as the old message: `status` and `timestamp` at the top (the old HealthCheckConsumer's shape). */
function sendHealth(session: EndpointSession, type: 'health_status' | 'health_response', done?: () => void): void {
  session.run(LegacyHealthDocument, {}, ({ health }) => {
    const extra = type === 'health_status' ? { server_time: health.timestamp } : { uptime: { seconds: health.uptimeSeconds, server_start: new Date(Date.parse(health.timestamp) - health.uptimeSeconds * 1000).toISOString(), current_time: health.timestamp } };
    session.sendMessage({ type, status: statusOf(health), data: details(health), timestamp: health.timestamp, ...extra });
    done?.();
  }, {
    refused: (errors) => {
      session.error(errors[0]?.message ?? 'Health check failed');
      done?.();
    },
  });
}

/**
 * `/ws/health/` (the old HealthCheckConsumer, no auth: `?token=` is not read): `health_status` on
 * connect, `health_check` → `health_response`, both from `query health`.
 */
export const healthEndpoint: LegacyEndpoint = {
  name: 'HealthCheckConsumer',
  authenticates: false,
  opened: (session) => new Promise<void>((resolve) => sendHealth(session, 'health_status', resolve)),
  messages: {
    health_check: (session) => sendHealth(session, 'health_response'),
  },
};
