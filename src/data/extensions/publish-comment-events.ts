import type { Logger } from 'pino';
import { Prisma } from '../../generated/prisma/client.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';

/**
 * The old system's comment signals. `commentAdded` (a comment created) and `commentApproved` (a write
 * setting APPROVED) are appended to the event log by the database in the write's own transaction, with
 * the post's author so subscription filters decide visibility without a query per subscriber (event_log
 * migration). After the write returns, this rings the topic's doorbell, so when the mutation answers,
 * its event is on its way to every instance with a subscriber.
 */
export function publishCommentEvents(pubsub: PubSub, logger: Logger) {
  const ring = (row: { postId?: string }, topicOf: (postId: string) => Parameters<PubSub['appended']>[0]) => {
    if (row.postId) pubsub.appended(topicOf(row.postId));
    // Read anyway within EVENT_LOG_POLL_INTERVAL.
    else logger.warn('comment write selected no postId: its event waits for the next read of the log');
  };
  return Prisma.defineExtension({
    name: 'publish-comment-events',
    query: {
      comment: {
        async create({ args, query }) {
          const result = await query(args);
          ring(result as { postId?: string }, topics.commentAdded);
          return result;
        },
        async update({ args, query }) {
          const result = await query(args);
          if (setsApproved(args.data)) ring(result as { postId?: string }, topics.commentApproved);
          return result;
        },
      },
    },
  });
}

function setsApproved(data: unknown): boolean {
  const status = (data as { status?: unknown } | undefined)?.status;
  if (status === 'APPROVED') return true;
  return typeof status === 'object' && status !== null && (status as { set?: unknown }).set === 'APPROVED';
}
