import type { Logger } from 'pino';
import { Prisma } from '../../generated/prisma/client.js';
import type { CommentStatus } from '../../generated/prisma/enums.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';

interface CommentRow {
  id: string;
  postId: string;
  authorId: string;
  status: CommentStatus;
}

/** The post's author id (PostService.authorIdOf: cached, a post's author never changes). */
export type PostAuthorLookup = (postId: string) => Promise<string | null>;

/**
 * The old system's comment signals: after `comment.create` commits, publish `commentAdded`; after a
 * `comment.update` that sets status APPROVED, publish `commentApproved`. Both carry the post's author
 * so subscription filters decide visibility without a query per subscriber. Publishing is awaited, so
 * when the mutation answers, its event is already on its way.
 */
export function publishCommentEvents(pubsub: PubSub, logger: Logger, postAuthorOf: PostAuthorLookup) {
  async function emit(row: CommentRow, event: 'commentAdded' | 'commentApproved'): Promise<void> {
    try {
      if (!row.id || !row.postId || !row.authorId || !row.status) {
        logger.warn({ event }, 'comment write selected too few fields to publish its event');
        return;
      }
      const postAuthorId = await postAuthorOf(row.postId);
      if (!postAuthorId) return;
      const payload = { postId: row.postId, commentId: row.id, authorId: row.authorId, postAuthorId, status: row.status };
      await pubsub.publish(event === 'commentAdded' ? topics.commentAdded(row.postId) : topics.commentApproved(row.postId), payload);
    } catch (error) {
      logger.warn({ err: error, commentId: row.id }, `${event} publish failed`);
    }
  }

  return Prisma.defineExtension({
    name: 'publish-comment-events',
    query: {
      comment: {
        async create({ args, query }) {
          const result = (await query(args)) as unknown as CommentRow;
          await emit(result, 'commentAdded');
          return result as never;
        },
        async update({ args, query }) {
          const result = (await query(args)) as unknown as CommentRow;
          if (setsApproved(args.data)) await emit(result, 'commentApproved');
          return result as never;
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
