import type { Viewer } from '../modules/auth/viewer.js';
import type { AuthService } from '../modules/auth/auth.service.js';
import type { UserService } from '../modules/users/user.service.js';
import type { PostService } from '../modules/posts/post.service.js';
import type { HealthService } from '../modules/health/health.service.js';
import type { RateLimits } from '../modules/limits/rate-limits.js';
import type { ConnectionRegistry } from '../modules/connections/connection-registry.js';
import type { Connection } from '../modules/connections/connection.js';
import type { AnalyticsService } from '../modules/analytics/analytics.service.js';
import type { NotificationService } from '../modules/notifications/notification.service.js';
import type { CommentService } from '../modules/comments/comment.service.js';
import type { TypingService } from '../modules/comments/typing.service.js';
import type { PubSub } from '../realtime/pubsub.js';
import type { RequestOrigin } from '../shared/request-origin.js';

export type { RequestOrigin } from '../shared/request-origin.js';

/** The domain services resolvers call (built once per app by the composition root, `services.ts`). */
export interface Services {
  readonly auth: AuthService;
  readonly users: UserService;
  readonly posts: PostService;
  readonly health: HealthService;
  readonly rateLimits: RateLimits;
  /** This instance's WebSocket connections (records, per-user cap, limits, `connectionStats`). */
  readonly connections: ConnectionRegistry;
  readonly analytics: AnalyticsService;
  readonly notifications: NotificationService;
  readonly comments: CommentService;
  readonly typing: TypingService;
}

/** One context type for HTTP, SSE and WebSocket operations. */
export interface Context {
  readonly viewer: Viewer | null;
  readonly services: Services;
  readonly pubsub: PubSub;
  readonly origin: RequestOrigin;
  /** The WebSocket connection the operation runs on; null over HTTP and SSE. */
  readonly connection: Connection | null;
  /**
   * SSE's `Last-Event-ID` (an EventSource or graphql-sse reconnecting): subscriptions over stored events
   * resume after it when no `after` is given. Null elsewhere.
   */
  readonly lastEventId: string | null;
}

export interface LoggedInContext extends Context {
  readonly viewer: Viewer;
}
