import { Prisma, type Post } from '../../generated/prisma/client.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import type { PostStatus } from '../../generated/prisma/enums.js';
import type { Logger } from 'pino';

interface PostRow {
  id: string;
  authorId: string;
  status: PostStatus;
}

/**
 * The old system's post_save signal: after a post write commits, publish `postUpdated` on the post's
 * topic. Runs after `query(args)` resolves, so subscribers never hear of a write that failed.
 */
export function publishPostEvents(pubsub: PubSub, logger: Logger, onPublished?: (row: Post, eventId: string) => void) {
  const emit = (row: PostRow, change: 'CREATED' | 'UPDATED' | 'PUBLISHED' | 'DELETED', fullRow: boolean) => {
    pubsub
      .publish(topics.postUpdated(row.id), { postId: row.id, authorId: row.authorId, status: row.status, change }, (event) => {
        if (fullRow && change !== 'DELETED') onPublished?.(row as unknown as Post, event.eventId);
      })
      .catch((error: unknown) => logger.warn({ err: error, postId: row.id }, 'postUpdated publish failed'));
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
          emit(result, 'CREATED', isWholeRow(args));
          return result as never;
        },
        async update({ args, query }) {
          const result = (await query(args)) as unknown as PostRow;
          const status = (args.data as { status?: unknown }).status;
          emit(result, status === 'PUBLISHED' ? 'PUBLISHED' : 'UPDATED', isWholeRow(args));
          if (status !== undefined) visibilityChanged(result.id);
          return result as never;
        },
        async delete({ args, query }) {
          const result = (await query(args)) as unknown as PostRow;
          emit(result, 'DELETED', false);
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
