import type { Logger } from 'pino';
import type { ConnectionRegistry } from '../../modules/connections/connection-registry.js';
import type { Authenticate } from '../context-factory.js';
import type { Operations } from '../ws/operation-runner.js';
import type { ProtocolAdapter } from '../ws/socket-channel.js';
import { analyticsEndpoint } from './analytics.js';
import { commentsEndpoint } from './comments.js';
import { DocumentPayloads } from './documents.js';
import type { LegacyEndpoint } from './endpoint.js';
import { healthEndpoint } from './health.js';
import { LegacyHeartbeat } from './heartbeat.js';
import { notificationsEndpoint } from './notifications.js';
import { postEndpoint } from './posts.js';
import { LegacyEndpointSession, type LegacySessionDeps } from './session.js';

/** The old system's routing table (its `websocket_urlpatterns`); the trailing slash is optional. */
const ROUTES: readonly { readonly pattern: RegExp; readonly endpoint: LegacyEndpoint }[] = [
  { pattern: /^\/ws\/notifications\/?$/, endpoint: notificationsEndpoint },
  { pattern: /^\/ws\/blog\/posts\/([\w-]{1,128})\/?$/, endpoint: postEndpoint },
  { pattern: /^\/ws\/blog\/comments\/([\w-]{1,128})\/?$/, endpoint: commentsEndpoint },
  { pattern: /^\/ws\/analytics\/dashboard\/?$/, endpoint: analyticsEndpoint },
  { pattern: /^\/ws\/health\/?$/, endpoint: healthEndpoint },
];

export interface LegacyEndpointsDeps {
  readonly runner: Operations;
  readonly connections: ConnectionRegistry;
  readonly authenticate: Authenticate;
  /** WS_HEARTBEAT_INTERVAL: the old `heartbeat` message's period. */
  readonly heartbeatIntervalMs: number;
  /** false under TRUSTED_DOCUMENTS=off: operations are sent as text, not by id. */
  readonly documentIds: boolean;
  readonly logger: Logger;
}

/** The endpoint and `{post_id}` of a path, or null when it is none of the old endpoints. */
export function legacyRoute(pathname: string): { readonly endpoint: LegacyEndpoint; readonly postId: string | null } | null {
  for (const { pattern, endpoint } of ROUTES) {
    const match = pattern.exec(pathname);
    if (match) return { endpoint, postId: match[1] ?? null };
  }
  return null;
}

/**
 * The old system's `/ws/...` endpoints (WS_LEGACY_ENDPOINTS): for an upgrade URL, the adapter of its
 * endpoint (no subprotocol needed), or undefined when the path is none of them (404).
 */
export function legacyEndpoints(deps: LegacyEndpointsDeps): (url: URL) => ProtocolAdapter | undefined {
  const session: LegacySessionDeps = {
    runner: deps.runner,
    connections: deps.connections,
    authenticate: deps.authenticate,
    heartbeat: new LegacyHeartbeat(deps.heartbeatIntervalMs),
    documents: new DocumentPayloads(deps.documentIds),
    logger: deps.logger,
  };
  return (url) => {
    const route = legacyRoute(url.pathname);
    if (!route) return undefined;
    return (channel) => new LegacyEndpointSession(channel, route.endpoint, route.postId, session);
  };
}
