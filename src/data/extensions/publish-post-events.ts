import { Prisma, type Post } from '../../generated/prisma/client.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import type { Logger } from 'pino';

interface PostRow {
  id: string;
  updatedAt?: Date;
}

/**
 * The old system's post_save signal. The write's `postUpdated` event is appended to the event log by the
 * database in the write's own transaction (event_log migration); after the write returns, this rings the
 * topic's doorbell, hands the written row to local subscribers (keyed by its version, the `updatedAt` the
 * event carries), and tells every instance to drop cached visibility when the status changed.
 */
export function publishPostEvents(pubsub: PubSub, logger: Logger, onWritten?: (row: Post, version: number) => void) {
  const written = (row: PostRow, args: unknown) => {
    if (isWholeRow(args) && row.updatedAt instanceof Date) onWritten?.(row as unknown as Post, row.updatedAt.getTime());
    pubsub.appended(topics.postUpdated(row.id));
  };
  const visibilityChanged = (postId: string) => {
    pubsub
      .publish(topics.postVisibilityChanged(), { postId })
      .catch((error: unknown) => logger.warn({ err: error, postId }, 'postVisibilityChanged publish failed'));
  };
  return Prisma.defineExtension({
    name: 'publish-post-events',
    query: {
      post: {
        async create({ args, query }) {
          const result = (await query(args)) as unknown as PostRow;
          written(result, args);
          return result as never;
        },
        async update({ args, query }) {
          const result = (await query(args)) as unknown as PostRow;
          written(result, args);
          if ((args.data as { status?: unknown }).status !== undefined) visibilityChanged(result.id);
          return result as never;
        },
        async delete({ args, query }) {
          const result = (await query(args)) as unknown as PostRow;
          pubsub.appended(topics.postUpdated(result.id));
          visibilityChanged(result.id);
          return result as never;
        },
      },
    },
  });
}

/** The write returned every column (no select/include/omit), so it is the row subscribers would load. */
function isWholeRow(args: unknown): boolean {
  const shaped = args as { select?: unknown; include?: unknown; omit?: unknown };
  return shaped.select === undefined && shaped.include === undefined && shaped.omit === undefined;
}
