import type { Logger } from 'pino';
import { Prisma } from '../../generated/prisma/client.js';
import type { NotificationAudience } from '../../generated/prisma/enums.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';

interface NotificationRow {
  audience?: NotificationAudience;
  recipientId?: string | null;
}

/**
 * A notification row is appended to the event log by the database in the write's own transaction: a
 * USER notification on its recipient's channel (`notificationCreated:<recipientId>`), a broadcast (audience
 * ALL, stored once) on the one `broadcastNotificationCreated` channel (event_log migration). After the
 * write returns, this rings that channel's doorbell. A Redis that cannot carry the ring never fails the
 * write, and never loses the event: every instance reads the log again when Redis is back, and on a timer.
 */
export function publishNotificationEvents(pubsub: PubSub, logger: Logger) {
  return Prisma.defineExtension({
    name: 'publish-notification-events',
    query: {
      notification: {
        async create({ args, query }) {
          const result = await query(args);
          const row = result as NotificationRow;
          if (row.audience === 'ALL') pubsub.appended(topics.broadcastNotificationCreated());
          else if (row.recipientId) pubsub.appended(topics.notificationCreated(row.recipientId));
          else logger.warn('notification.create selected too few fields to ring its doorbell: its event waits for the next read of the log');
          return result;
        },
      },
    },
  });
}
