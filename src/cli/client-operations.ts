/*
 * Subscription documents used by `client --test`. Plain strings on purpose (not codegen-typed documents):
 * the CLI must start even while a field it asks for is still being built, and the server's validation
 * error for that one subscription is printed like any other event. Names are fixed by DESIGN.md §2.
 */

export type ClientTest = 'notifications' | 'post' | 'comments' | 'analytics' | 'health';
export const CLIENT_TESTS: readonly (ClientTest | 'all')[] = ['notifications', 'post', 'comments', 'analytics', 'health', 'all'];

export interface ClientOperation {
  /** The subscription field, printed before each event. */
  readonly name: string;
  readonly test: ClientTest;
  readonly query: string;
  readonly needsPostId: boolean;
  readonly needsToken: boolean;
}

export const CLIENT_OPERATIONS: readonly ClientOperation[] = [
  {
    name: 'notifications',
    test: 'notifications',
    needsPostId: false,
    needsToken: true,
    query: `subscription CliNotifications {
  notifications { id notificationType title message icon color data eventId timestamp }
}`,
  },
  {
    name: 'postStats',
    test: 'post',
    needsPostId: true,
    needsToken: false,
    query: `subscription CliPostStats($postId: ID!) {
  postStats(postId: $postId) { postId viewCount likeCount commentCount eventId timestamp }
}`,
  },
  {
    name: 'postUpdated',
    test: 'post',
    needsPostId: true,
    needsToken: false,
    query: `subscription CliPostUpdated($postId: ID!) {
  postUpdated(postId: $postId) { change postId eventId timestamp post { id title status } }
}`,
  },
  {
    name: 'commentAdded',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    query: `subscription CliCommentAdded($postId: ID!) {
  commentAdded(postId: $postId) { postId eventId timestamp comment { id content status createdAt author { id username } } }
}`,
  },
  {
    name: 'commentApproved',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    query: `subscription CliCommentApproved($postId: ID!) {
  commentApproved(postId: $postId) { postId eventId timestamp comment { id content status createdAt author { id username } } }
}`,
  },
  {
    name: 'typing',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    query: `subscription CliTyping($postId: ID!) {
  typing(postId: $postId) { postId isTyping eventId timestamp user { id username } typingUsers { id username } }
}`,
  },
  {
    name: 'analyticsDashboard',
    test: 'analytics',
    needsPostId: false,
    needsToken: true,
    query: `subscription CliAnalyticsDashboard {
  analyticsDashboard { liveVisitors activeConnections pageViewsLastHour pageViewsToday timestamp topPosts { views post { id title } } }
}`,
  },
  {
    name: 'health',
    test: 'health',
    needsPostId: false,
    needsToken: false,
    query: `subscription CliHealth($intervalSeconds: Int) {
  health(intervalSeconds: $intervalSeconds) { status database redis instanceId uptimeSeconds timestamp }
}`,
  },
];

/** The operations a `--test` value runs. */
export function operationsFor(test: ClientTest | 'all'): ClientOperation[] {
  return CLIENT_OPERATIONS.filter((op) => test === 'all' || op.test === test);
}
