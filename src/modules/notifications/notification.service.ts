import type { PrismaClient } from '../../data/db.js';
import { requireText } from '../../shared/text-input.js';
import { EventScopedLoader } from '../../shared/event-scoped-loader.js';
import { Prisma, type Notification, type Post } from '../../generated/prisma/client.js';
import type { NotificationType } from '../../generated/prisma/enums.js';
import { badInput, notFound } from '../../shared/errors.js';
import type { TopicEvent } from '../../realtime/topics.js';
import type { UserService } from '../users/user.service.js';
import type { PostEventsSink } from '../posts/post.service.js';
import { isUuid } from '../posts/post.service.js';
import type { CommentNotifier } from './comment-notifier.js';
import { clip, COLOR_MAX, DATA_MAX_CHARS, ICON_MAX, MESSAGE_MAX, NOTIFICATION_STYLE, TITLE_MAX } from './notification-content.js';
import { decodeCursor, newestFirst, olderThan } from './notification-cursor.js';
import {
  broadcastReadAt,
  broadcastsFor,
  canSeeBroadcast,
  unreadBroadcastsFor,
  type BroadcastReader,
  type NotificationView,
} from './notification-view.js';

export interface ListOptions {
  readonly unreadOnly?: boolean | null;
  readonly types?: readonly NotificationType[] | null;
  readonly first: number;
  readonly after?: string | null;
}

export interface SystemNotificationInput {
  readonly title: string;
  readonly message: string;
  readonly icon?: string | null;
  readonly color?: string | null;
  readonly data?: unknown;
}

interface NewNotification {
  readonly type: NotificationType;
  readonly title: string;
  readonly message: string;
  readonly actorId: string | null;
  readonly data: Record<string, unknown>;
  readonly icon?: string | null;
  readonly color?: string | null;
}

export const PAGE_MAX = 100;

/**
 * Stores notifications, then (through the publish-notification-events extension) publishes them.
 * Who is told what: DESIGN.md §2. Broadcasts are ONE row (audience ALL) whatever the number of
 * readers; each reader's read state lives in NotificationRead rows and User.broadcastsReadBefore.
 */
export class NotificationService implements PostEventsSink, CommentNotifier {
  private readonly eventLoads = new EventScopedLoader<Notification | null>((id) => this.db.notification.findUnique({ where: { id } }));

  constructor(
    private readonly db: PrismaClient,
    private readonly users: UserService,
  ) {}

  // ── who is told what ────────────────────────────────────────────────────────────────────────

  async postPublished(post: Post): Promise<void> {
    const author = await this.users.byId(post.authorId);
    await this.broadcast({
      type: 'BLOG_POST_PUBLISHED',
      title: 'New post',
      message: clip(`${author?.displayName ?? 'Someone'} published “${post.title}”`, MESSAGE_MAX),
      actorId: post.authorId,
      data: { postId: post.id, authorId: post.authorId },
    });
  }

  async postLiked(post: Post, likerId: string): Promise<void> {
    if (likerId === post.authorId) return;
    const liker = await this.users.byId(likerId);
    await this.notify(post.authorId, {
      type: 'POST_LIKED',
      title: 'Your post was liked',
      message: clip(`${liker?.displayName ?? 'Someone'} liked “${post.title}”`, MESSAGE_MAX),
      actorId: likerId,
      data: { postId: post.id, likerId },
    });
  }

  async commentAdded(event: Parameters<CommentNotifier['commentAdded']>[0]): Promise<void> {
    if (event.commenterId === event.postAuthorId) return;
    await this.notify(event.postAuthorId, {
      type: 'COMMENT_ADDED',
      title: 'New comment',
      message: clip(`${event.commenterName} commented on “${event.postTitle}”`, MESSAGE_MAX),
      actorId: event.commenterId,
      data: { postId: event.postId, commentId: event.commentId, commenterId: event.commenterId },
    });
  }

  async commentApproved(event: Parameters<CommentNotifier['commentApproved']>[0]): Promise<void> {
    if (event.moderatorId === event.commenterId) return;
    await this.notify(event.commenterId, {
      type: 'COMMENT_APPROVED',
      title: 'Comment approved',
      message: clip(`Your comment on “${event.postTitle}” was approved`, MESSAGE_MAX),
      actorId: event.moderatorId,
      data: { postId: event.postId, commentId: event.commentId },
    });
  }

  /** Staff: one SYSTEM_ALERT broadcast to every user; returns how many users it reaches. */
  async sendSystem(input: SystemNotificationInput): Promise<number> {
    const title = requireText(input.title, 'title', TITLE_MAX);
    const message = requireText(input.message, 'message', MESSAGE_MAX);
    const icon = optionalText(input.icon, 'icon', ICON_MAX);
    const color = optionalText(input.color, 'color', COLOR_MAX);
    const data = input.data ?? {};
    if (typeof data !== 'object' || Array.isArray(data)) throw badInput('data must be a JSON object', 'data');
    if (JSON.stringify(data).length > DATA_MAX_CHARS) throw badInput(`data must be at most ${DATA_MAX_CHARS} characters of JSON`, 'data');
    // No actor: a system alert reaches everyone, its sender included.
    await this.broadcast({ type: 'SYSTEM_ALERT', title, message, icon, color, actorId: null, data: data as Record<string, unknown> });
    return this.db.user.count();
  }

  // ── reading ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Newest first, own rows and visible broadcasts merged. Each source is read with its own index
   * ((recipientId, createdAt) / (audience, createdAt)) and limited to the page, then merged: cost
   * follows the page size, not the table size. Returns up to `first + 1` (the extra tells there is more).
   */
  async list(userId: string, options: ListOptions): Promise<NotificationView[]> {
    if (!Number.isInteger(options.first) || options.first < 1 || options.first > PAGE_MAX) {
      throw badInput(`first must be between 1 and ${PAGE_MAX}`, 'first');
    }
    const types = requireTypes(options.types);
    const reader = await this.reader(userId);
    const take = options.first + 1;
    const after = options.after ? [olderThan(decodeCursor(options.after))] : [];
    const typeFilter = types ? { type: { in: [...types] } } : {};
    const order = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];
    const [own, broadcasts] = await Promise.all([
      this.db.notification.findMany({
        where: { recipientId: userId, ...typeFilter, ...(options.unreadOnly ? { readAt: null } : {}), AND: after },
        orderBy: order,
        take,
      }),
      this.db.notification.findMany({
        where: { ...(options.unreadOnly ? unreadBroadcastsFor(reader) : broadcastsFor(reader)), ...typeFilter, AND: after },
        orderBy: order,
        take,
        include: { reads: { where: { userId }, select: { readAt: true } } },
      }),
    ]);
    const views: NotificationView[] = [
      ...own.map((n) => ({ notification: n, readAt: n.readAt, eventId: null, timestamp: n.createdAt })),
      ...broadcasts.map(({ reads, ...n }) => ({
        notification: n,
        readAt: broadcastReadAt(n, reader, reads[0]?.readAt ?? null),
        eventId: null,
        timestamp: n.createdAt,
      })),
    ];
    return views.sort((a, b) => newestFirst(a.notification, b.notification)).slice(0, take);
  }

  async unreadCount(userId: string): Promise<number> {
    const reader = await this.reader(userId);
    const [own, broadcasts] = await Promise.all([
      this.db.notification.count({ where: { recipientId: userId, readAt: null } }),
      this.db.notification.count({ where: unreadBroadcastsFor(reader) }),
    ]);
    return own + broadcasts;
  }

  /** The viewer's own notification or a broadcast they can see; anything else is NOT_FOUND. */
  async markRead(userId: string, id: string): Promise<NotificationView> {
    const notification = isUuid(id) ? await this.db.notification.findUnique({ where: { id } }) : null;
    if (!notification) throw notFound('Notification');
    if (notification.audience === 'USER') {
      if (notification.recipientId !== userId) throw notFound('Notification');
      // Only the first read sets readAt: marking again keeps the original time.
      await this.db.notification.updateMany({ where: { id, readAt: null }, data: { readAt: new Date() } });
      const fresh = (await this.db.notification.findUnique({ where: { id } })) ?? notification;
      return { notification: fresh, readAt: fresh.readAt, eventId: null, timestamp: fresh.createdAt };
    }
    const reader = await this.reader(userId);
    if (!canSeeBroadcast(notification, reader)) throw notFound('Notification');
    let readAt = broadcastReadAt(notification, reader, null);
    if (!readAt) {
      await this.db.notificationRead.createMany({ data: [{ userId, notificationId: id }], skipDuplicates: true });
      const row = await this.db.notificationRead.findUnique({ where: { userId_notificationId: { userId, notificationId: id } } });
      readAt = row?.readAt ?? new Date();
    }
    return { notification, readAt, eventId: null, timestamp: notification.createdAt };
  }

  /**
   * Marks everything the viewer can see as read; returns how many became read. Broadcasts cost one
   * update of the user (broadcastsReadBefore), not one row per broadcast.
   */
  async markAllRead(userId: string): Promise<number> {
    const reader = await this.reader(userId);
    const now = new Date();
    const unreadBroadcasts = await this.db.notification.count({ where: { ...unreadBroadcastsFor(reader), AND: [{ createdAt: { lt: now } }] } });
    const own = await this.db.notification.updateMany({ where: { recipientId: userId, readAt: null }, data: { readAt: now } });
    await this.db.user.update({ where: { id: userId }, data: { broadcastsReadBefore: now } });
    // Per-broadcast read rows older than the boundary say nothing more; keep the table small.
    await this.db.notificationRead.deleteMany({ where: { userId, notification: { createdAt: { lt: now } } } });
    return own.count + unreadBroadcasts;
  }

  /**
   * The notification an event announces, unread (it was just created). Every subscriber of one
   * event shares one load: a broadcast to 5,000 sockets costs one query on each instance, not 5,000.
   */
  async loadForEvent(event: TopicEvent<'notificationCreated'> | TopicEvent<'broadcastNotificationCreated'>): Promise<NotificationView> {
    const notification = await this.eventLoads.get(event.notificationId, event.notificationId);
    if (!notification) throw notFound('Notification');
    return { notification, readAt: null, eventId: event.eventId, timestamp: event.timestamp };
  }

  // ── writing ─────────────────────────────────────────────────────────────────────────────────

  private async notify(recipientId: string, input: NewNotification): Promise<void> {
    await this.db.notification.create({ data: { ...this.row(input), audience: 'USER', recipientId } });
  }

  private async broadcast(input: NewNotification): Promise<void> {
    await this.db.notification.create({ data: { ...this.row(input), audience: 'ALL', recipientId: null } });
  }

  private row(input: NewNotification) {
    const style = NOTIFICATION_STYLE[input.type];
    return {
      type: input.type,
      title: clip(input.title, TITLE_MAX),
      message: input.message,
      icon: input.icon ?? style.icon,
      color: input.color ?? style.color,
      actorId: input.actorId,
      data: input.data as Prisma.InputJsonObject,
      // Set here, not by the database, so read boundaries (broadcastsReadBefore) use the same clock.
      createdAt: new Date(),
    };
  }

  private async reader(userId: string): Promise<BroadcastReader> {
    const user = await this.db.user.findUnique({ where: { id: userId }, select: { id: true, createdAt: true, broadcastsReadBefore: true } });
    if (!user) throw notFound('User');
    return user;
  }
}

export function requireTypes(types: readonly NotificationType[] | null | undefined): readonly NotificationType[] | null {
  if (types === null || types === undefined) return null;
  if (types.length === 0) throw badInput('types must not be empty: omit it for every type', 'types');
  return types;
}

function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text.length > max) throw badInput(`${field} must be at most ${max} characters`, field);
  return text.length > 0 ? text : null;
}
