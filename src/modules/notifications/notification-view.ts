import type { Notification } from '../../generated/prisma/client.js';

/**
 * A notification as one viewer sees it: broadcasts are stored once, so `readAt` is this viewer's read
 * state (their own row's `readAt`, a NotificationRead row, or User.broadcastsReadBefore), not the row's.
 */
export interface NotificationView {
  readonly notification: Notification;
  readonly readAt: Date | null;
  /** The event that delivered it live; null when read through a query. */
  readonly eventId: string | null;
  /** When the event was published (live), else when the notification was created. */
  readonly timestamp: Date | string;
}

/** The per-user facts that decide which broadcasts a user sees and which of them are read. */
export interface BroadcastReader {
  readonly id: string;
  /** Broadcasts created before the user registered are not theirs. */
  readonly createdAt: Date;
  /** Broadcasts created before this count as read (markAllNotificationsRead). */
  readonly broadcastsReadBefore: Date | null;
}

/** Prisma condition: the broadcasts `reader` may see (theirs since registering, not their own actions). */
export function broadcastsFor(reader: BroadcastReader) {
  return {
    audience: 'ALL' as const,
    createdAt: { gte: reader.createdAt },
    OR: [{ actorId: null }, { actorId: { not: reader.id } }],
  };
}

/** Prisma condition: the broadcasts `reader` has not read yet. */
export function unreadBroadcastsFor(reader: BroadcastReader) {
  const since = reader.broadcastsReadBefore && reader.broadcastsReadBefore > reader.createdAt ? reader.broadcastsReadBefore : reader.createdAt;
  return {
    ...broadcastsFor(reader),
    createdAt: { gte: since },
    reads: { none: { userId: reader.id } },
  };
}

export function canSeeBroadcast(notification: Pick<Notification, 'audience' | 'createdAt' | 'actorId'>, reader: BroadcastReader): boolean {
  return notification.audience === 'ALL' && notification.createdAt >= reader.createdAt && notification.actorId !== reader.id;
}

/** This reader's read time of a broadcast, given its NotificationRead row's time if any. */
export function broadcastReadAt(notification: Pick<Notification, 'createdAt'>, reader: BroadcastReader, readRowAt: Date | null): Date | null {
  if (reader.broadcastsReadBefore && notification.createdAt < reader.broadcastsReadBefore) return reader.broadcastsReadBefore;
  return readRowAt;
}
