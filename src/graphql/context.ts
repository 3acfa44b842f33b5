import type { Viewer } from '../modules/auth/viewer.js';
import type { Services } from '../services.js';
import type { PubSub } from '../realtime/pubsub.js';

/** Where an operation came from; WebSocket operations also carry their connection's id. */
export interface RequestOrigin {
  readonly transport: 'http' | 'sse' | 'ws';
  readonly ip: string | null;
  readonly userAgent: string | null;
  /**
   * A stable anonymous identity (header `x-client-id` or connectionParams.clientId), so anonymous
   * views are counted once per visitor; null when the client sent none.
   */
  readonly clientId: string | null;
  readonly connectionId: string | null;
}

/** One context type for HTTP, SSE and WebSocket operations. */
export interface Context {
  readonly viewer: Viewer | null;
  readonly services: Services;
  readonly pubsub: PubSub;
  readonly origin: RequestOrigin;
}

export interface LoggedInContext extends Context {
  readonly viewer: Viewer;
}
