import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Context, Services } from '../graphql/context.js';
import type { PubSub } from '../realtime/pubsub.js';
import type { Viewer } from '../modules/auth/viewer.js';
import type { Connection } from '../modules/connections/connection.js';
import { TokenError, parseBearer } from '../modules/auth/tokens.js';
import type { RequestOrigin } from '../shared/request-origin.js';
import { clientAddress } from './client-address.js';

/** Verifies an access token (signature, claims, session not revoked); throws TokenError when it is bad. */
export type Authenticate = (token: string) => Promise<Viewer>;

/** What a WebSocket transport hands to Yoga for each operation of a connection. */
export interface SocketOperationContext {
  readonly viewer: Viewer | null;
  readonly origin: RequestOrigin;
  readonly connection: Connection;
}

export interface YogaServerContext {
  readonly req?: IncomingMessage;
  readonly request?: Request;
  readonly herald?: SocketOperationContext;
}

export interface ContextDeps {
  readonly services: Services;
  readonly pubsub: PubSub;
  readonly authenticate: Authenticate;
  readonly trustedProxies: readonly string[];
}

/**
 * Builds the one Context for HTTP, SSE and WebSocket operations. HTTP and SSE authenticate the
 * `Authorization` header here; WebSocket operations come with their connection's viewer in `herald`.
 */
export function createContextFactory(deps: ContextDeps) {
  const { services, pubsub } = deps;
  return async (initial: YogaServerContext): Promise<Context> => {
    if (initial.herald) return { viewer: initial.herald.viewer, origin: initial.herald.origin, connection: initial.herald.connection, lastEventId: null, services, pubsub };
    const headers = initial.request?.headers;
    const sse = headers?.get('accept')?.includes('text/event-stream') ?? false;
    const origin: RequestOrigin = {
      transport: sse ? 'sse' : 'http',
      ip: initial.req ? clientAddress(initial.req, deps.trustedProxies) : null,
      userAgent: headers?.get('user-agent') ?? null,
      clientId: headers?.get('x-client-id')?.slice(0, 128) ?? null,
      connectionId: null,
    };
    const lastEventId = sse ? (headers?.get('last-event-id') ?? null) : null;
    const token = parseBearer(headers?.get('authorization'));
    if (!token) return { viewer: null, origin, connection: null, lastEventId, services, pubsub };
    try {
      return { viewer: await deps.authenticate(token), origin, connection: null, lastEventId, services, pubsub };
    } catch (error) {
      if (error instanceof TokenError) {
        // A bad token fails the request rather than silently running it anonymously.
        throw new GraphQLError(error.message, {
          extensions: { code: 'UNAUTHENTICATED', reason: error.reason, http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } } },
        });
      }
      throw error;
    }
  };
}
