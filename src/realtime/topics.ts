import type { NotificationType, CommentStatus, PostStatus } from '../generated/prisma/enums.js';

/**
 * The one typed topic map. Keys are past-tense events; a scoped topic carries its id in the channel
 * name (`commentAdded:<postId>`), so an instance only receives what a local subscriber asked for.
 * Payloads are small JSON: ids and changed fields, never whole rows.
 */
export interface TopicPayloads {
  /** `version`: the post's `updatedAt` (ms) as written, so the writer's row can serve its local subscribers. */
  postUpdated: { postId: string; authorId: string; status: PostStatus; change: 'CREATED' | 'UPDATED' | 'PUBLISHED' | 'DELETED'; version: number };
  /** A post's status changed or it was deleted (who may see it changed): every instance drops what it cached. */
  postVisibilityChanged: { postId: string };
  postStatsChanged: { postId: string; viewCount: number; likeCount: number; commentCount: number };
  commentAdded: { postId: string; commentId: string; authorId: string; postAuthorId: string; status: CommentStatus };
  commentApproved: { postId: string; commentId: string; authorId: string; postAuthorId: string; status: CommentStatus };
  typingChanged: { postId: string; userId: string; isTyping: boolean; typingUserIds: string[] };
  notificationCreated: { notificationId: string; recipientId: string; type: NotificationType };
  broadcastNotificationCreated: { notificationId: string; type: NotificationType; actorId: string | null };
  analyticsChanged: { reason: 'PAGE_VIEW' | 'CONNECTION' | 'POST_VIEW' };
  sessionRevoked: { sessionId: string; userId: string };
  /**
   * The user's access tokens issued before `revokedBefore` (ms since the epoch) are no longer accepted (their
   * role changed); published after the change commits. Refresh tokens still work and get the new role.
   */
  userAccessRevoked: { userId: string; revokedBefore: number; reason: 'ROLE_CHANGED' };
}

export type TopicKey = keyof TopicPayloads;

/**
 * Topics whose events are rows of the event log (appended by database triggers in commit order), so a
 * subscription can resume after one of them. Their `eventId` is the log position (event-cursor.ts).
 */
export const DURABLE_TOPICS: ReadonlySet<TopicKey> = new Set<TopicKey>(['postUpdated', 'commentAdded', 'commentApproved', 'notificationCreated', 'broadcastNotificationCreated']);

/** A channel name bound to the payload type it carries. */
export interface Topic<K extends TopicKey> {
  readonly key: K;
  readonly channel: string;
}

/** What subscribers receive: the payload plus its identity. */
export type TopicEvent<K extends TopicKey> = TopicPayloads[K] & EventIdentity;

export interface EventIdentity {
  /**
   * Unique across instances and sortable. A durable event's id is its position in the event log, which a
   * subscription resumes after (`after`); other events have a ULID.
   */
  readonly eventId: string;
  /** ISO-8601 time of publication. */
  readonly timestamp: string;
}

function scoped<K extends TopicKey>(key: K) {
  return (id: string): Topic<K> => ({ key, channel: `${key}:${id}` });
}

function global<K extends TopicKey>(key: K): () => Topic<K> {
  const topic: Topic<K> = { key, channel: key };
  return () => topic;
}

export const topics = {
  postUpdated: scoped('postUpdated'),
  postVisibilityChanged: global('postVisibilityChanged'),
  postStatsChanged: scoped('postStatsChanged'),
  commentAdded: scoped('commentAdded'),
  commentApproved: scoped('commentApproved'),
  typingChanged: scoped('typingChanged'),
  /** Scoped by recipient user id. */
  notificationCreated: scoped('notificationCreated'),
  broadcastNotificationCreated: global('broadcastNotificationCreated'),
  analyticsChanged: global('analyticsChanged'),
  sessionRevoked: global('sessionRevoked'),
  userAccessRevoked: global('userAccessRevoked'),
} as const;
