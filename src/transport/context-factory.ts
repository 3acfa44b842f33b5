import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Context, RequestOrigin } from '../graphql/context.js';
import type { Services } from '../services.js';
import type { PubSub } from '../realtime/pubsub.js';
import type { Viewer } from '../modules/auth/viewer.js';
import { TokenError, parseBearer } from '../modules/auth/tokens.js';
import { clientAddress } from './client-address.js';

/** What the WebSocket transport hands to Yoga for each operation of a connection. */
export interface SocketOperationContext {
  readonly viewer: Viewer | null;
  readonly origin: RequestOrigin;
}

export interface YogaServerContext {
  readonly req?: IncomingMessage;
  readonly request?: Request;
  readonly herald?: SocketOperationContext;
}

/**
 * Builds the one Context for HTTP, SSE and WebSocket operations. HTTP and SSE authenticate the
 * `Authorization` header here; WebSocket connections authenticated once in `onConnect` and pass
 * their viewer in `herald`.
 */
export function createContextFactory(deps: { services: Services; pubsub: PubSub; trustedProxies: readonly string[] }) {
  return async (initial: YogaServerContext): Promise<Context> => {
    if (initial.herald) return { viewer: initial.herald.viewer, origin: initial.herald.origin, services: deps.services, pubsub: deps.pubsub };
    const headers = initial.request?.headers;
    const sse = headers?.get('accept')?.includes('text/event-stream') ?? false;
    const origin: RequestOrigin = {
      transport: sse ? 'sse' : 'http',
      ip: initial.req ? clientAddress(initial.req, deps.trustedProxies) : null,
      userAgent: headers?.get('user-agent') ?? null,
      clientId: headers?.get('x-client-id')?.slice(0, 128) ?? null,
      connectionId: null,
    };
    const token = parseBearer(headers?.get('authorization'));
    if (!token) return { viewer: null, origin, services: deps.services, pubsub: deps.pubsub };
    try {
      const viewer = await deps.services.auth.authenticate(token);
      return { viewer, origin, services: deps.services, pubsub: deps.pubsub };
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
