import { builder } from '../../graphql/builder.js';
import type { NotificationType } from '../../generated/prisma/enums.js';
import { topics } from '../../realtime/topics.js';
import { forwardPage, pageOf } from '../../graphql/pagination.js';
import { encodeCursor } from './notification-cursor.js';
import type { NotificationView } from './notification-view.js';
import { requireTypes } from './notification.service.js';
import { RESUME_ARGUMENT } from '../../graphql/resume-argument.js';

export const NotificationTypeEnum = builder.enumType('NotificationType', {
  description: 'What a notification is about.',
  values: {
    BLOG_POST_PUBLISHED: { description: 'A post was published (broadcast to every user but its author).' },
    COMMENT_ADDED: { description: 'Someone commented on your post.' },
    COMMENT_APPROVED: { description: 'Your comment was approved.' },
    POST_LIKED: { description: 'Someone liked your post.' },
    SYSTEM_ALERT: { description: 'A message from staff to every user.' },
  } as const,
});

export const NotificationRef = builder.objectRef<NotificationView>('Notification').implement({
  description: 'Something that happened that concerns the viewer. Read state is the viewer’s own, also for broadcasts.',
  fields: (t) => ({
    id: t.id({ description: 'Stable id (pass it to markNotificationRead).', resolve: (v) => v.notification.id }),
    notificationType: t.field({ type: NotificationTypeEnum, description: 'What it is about.', resolve: (v) => v.notification.type }),
    type: t.field({ type: NotificationTypeEnum, description: 'Same as notificationType (short name).', resolve: (v) => v.notification.type }),
    title: t.string({ description: 'Short headline (≤ 200 characters).', resolve: (v) => v.notification.title }),
    message: t.string({ description: 'Body text (≤ 2,000 characters).', resolve: (v) => v.notification.message }),
    icon: t.string({ nullable: true, description: 'Icon name for the client (Material Symbols names by default).', resolve: (v) => v.notification.icon }),
    color: t.string({ nullable: true, description: 'Accent color, e.g. #2563eb.', resolve: (v) => v.notification.color }),
    data: t.field({
      type: 'JSON',
      nullable: true,
      description: 'Ids the client needs to act on it, e.g. { postId, commentId }.',
      resolve: (v) => v.notification.data,
    }),
    isBroadcast: t.boolean({ description: 'True when sent to every user (stored once).', resolve: (v) => v.notification.audience === 'ALL' }),
    read: t.boolean({ description: 'Whether the viewer has read it.', viewerDependent: true, resolve: (v) => v.readAt !== null }),
    readAt: t.field({ type: 'DateTime', nullable: true, description: 'When the viewer read it.', viewerDependent: true, resolve: (v) => v.readAt }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (v) => v.notification.createdAt }),
    eventId: t.string({ nullable: true, description: 'Identity of the live event that delivered it (sortable); null in queries.', resolve: (v) => v.eventId }),
    timestamp: t.field({ type: 'DateTime', description: 'When the live event was published; createdAt in queries.', resolve: (v) => v.timestamp }),
  }),
});

const SystemNotificationInput = builder.inputType('SystemNotificationInput', {
  description: 'A SYSTEM_ALERT to every user.',
  fields: (t) => ({
    title: t.string({ required: true, description: '1-200 characters.' }),
    message: t.string({ required: true, description: '1-2,000 characters.' }),
    icon: t.string({ description: 'Icon name (≤ 64 characters); default "campaign".' }),
    color: t.string({ description: 'Accent color (≤ 32 characters); default red.' }),
    data: t.field({ type: 'JSON', description: 'A JSON object (≤ 10,000 characters serialized) passed to clients as is.' }),
  }),
});

builder.queryFields((t) => ({
  notifications: t.connection(
    {
      type: NotificationRef,
      description: 'The viewer’s notifications, newest first (`first` 1-100, default 20; `after`: the endCursor of the previous page): their own and the broadcasts sent since they registered.',
      authScopes: { loggedIn: true },
      args: {
        unreadOnly: t.arg.boolean({ defaultValue: false, description: 'Only those the viewer has not read.' }),
        types: t.arg({ type: [NotificationTypeEnum], description: 'Only these types (all when omitted; not empty).' }),
      },
      resolve: async (_r, args, ctx) => {
        const { first, after } = forwardPage(args);
        const rows = await ctx.services.notifications.list(ctx.viewer!.id, {
          unreadOnly: args.unreadOnly,
          types: args.types as NotificationType[] | null | undefined,
          first,
          after,
        });
        return pageOf(rows, first, (v) => encodeCursor(v.notification), after);
      },
    },
    { name: 'NotificationConnection', description: 'A page of notifications, newest first.' },
    { name: 'NotificationEdge', description: 'One notification in a page.' },
  ),
  unreadNotificationCount: t.int({
    description: 'How many of the viewer’s notifications (broadcasts included) are unread.',
    authScopes: { loggedIn: true },
    resolve: (_r, _a, ctx) => ctx.services.notifications.unreadCount(ctx.viewer!.id),
  }),
}));

builder.mutationFields((t) => ({
  markNotificationRead: t.field({
    type: NotificationRef,
    description: 'Marks one of the viewer’s notifications read (idempotent). Anyone else’s id is NOT_FOUND.',
    authScopes: { loggedIn: true },
    args: { id: t.arg.id({ required: true, description: 'The notification id.' }) },
    resolve: (_r, { id }, ctx) => ctx.services.notifications.markRead(ctx.viewer!.id, String(id)),
  }),
  markAllNotificationsRead: t.int({
    description: 'Marks every notification of the viewer read; returns how many were unread.',
    authScopes: { loggedIn: true },
    resolve: (_r, _a, ctx) => ctx.services.notifications.markAllRead(ctx.viewer!.id),
  }),
  sendSystemNotification: t.int({
    description: 'Staff only: a SYSTEM_ALERT to every user (stored once). Returns the number of users it reaches.',
    authScopes: { staff: true },
    args: { input: t.arg({ type: SystemNotificationInput, required: true, description: 'What to say.' }) },
    resolve: (_r, { input }, ctx) => ctx.services.notifications.sendSystem(input),
  }),
}));

builder.subscriptionFields((t) => ({
  notifications: t.field({
    type: NotificationRef,
    description:
      'The viewer’s new notifications as they are created: their own and broadcasts (never another user’s). ' +
      'Only the given types (all when omitted). Several subscriptions with different types may share one socket.',
    authScopes: { loggedIn: true },
    // The viewer's own stream: executed per viewer whatever is selected.
    viewerDependent: true,
    args: {
      types: t.arg({ type: [NotificationTypeEnum], description: 'Only these types (all when omitted; not empty).' }),
      after: t.arg.string(RESUME_ARGUMENT),
    },
    subscribe: (_r, args, ctx) => {
      const viewerId = ctx.viewer!.id;
      const types = requireTypes(args.types as NotificationType[] | null | undefined);
      const wanted = (type: NotificationType) => !types || types.includes(type);
      return ctx.pubsub.subscribeMany<'notificationCreated' | 'broadcastNotificationCreated'>([
        { topic: topics.notificationCreated(viewerId), filter: (event) => 'recipientId' in event && event.recipientId === viewerId && wanted(event.type) },
        // A broadcast skips its actor: an author is not told of their own post.
        { topic: topics.broadcastNotificationCreated(), filter: (event) => 'actorId' in event && event.actorId !== viewerId && wanted(event.type) },
      ], { after: args.after ?? ctx.lastEventId });
    },
    resolve: (event, _a, ctx) => ctx.services.notifications.loadForEvent(event),
  }),
}));
