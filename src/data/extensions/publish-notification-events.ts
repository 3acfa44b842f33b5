import type { Logger } from 'pino';
import { Prisma } from '../../generated/prisma/client.js';
import type { NotificationAudience, NotificationType } from '../../generated/prisma/enums.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';

interface NotificationRow {
  id: string;
  audience: NotificationAudience;
  recipientId: string | null;
  actorId: string | null;
  type: NotificationType;
}

/**
 * After a notification row commits, publish it: a USER notification on its recipient's own topic
 * (`notificationCreated:<recipientId>`), a broadcast (audience ALL, stored once) on the one
 * `broadcastNotificationCreated` topic. The publish is awaited so the mutation that caused it returns
 * after subscribers could hear of it, but a failed publish never fails the write: the row stays
 * readable through the `notifications` query.
 */
export function publishNotificationEvents(pubsub: PubSub, logger: Logger) {
  const emit = async (row: NotificationRow): Promise<void> => {
    try {
      if (row.audience === 'ALL') {
        await pubsub.publish(topics.broadcastNotificationCreated(), { notificationId: row.id, type: row.type, actorId: row.actorId });
      } else if (row.recipientId) {
        await pubsub.publish(topics.notificationCreated(row.recipientId), { notificationId: row.id, recipientId: row.recipientId, type: row.type });
      }
    } catch (error) {
      logger.warn({ err: error, notificationId: row.id }, 'notification publish failed');
    }
  };
  return Prisma.defineExtension({
    name: 'publish-notification-events',
    query: {
      notification: {
        async create({ args, query }) {
          const result = (await query(args)) as unknown as NotificationRow;
          // A `select` without these fields would leave nothing to route by; callers must not narrow it.
          if (result.id && result.type && result.audience) await emit(result);
          else logger.warn('notification.create selected too few fields to publish');
          return result as never;
        },
      },
    },
  });
}
