import { Prisma, type Post } from '../../generated/prisma/client.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import type { Logger } from 'pino';
import type { SqlQuery } from '../sql-query.js';
import { updatePostText, type PostTextChange } from '../post-text-update.js';

interface PostRow {
  id: string;
  updatedAt?: Date;
}

/** What this extension adds to `db.post`. */
export interface PostWrites {
  /**
   * Sets a post's title and/or content; the whole row, or null when no such post exists. One statement
   * through `pg` (`src/data/post-text-update.ts`), published like `post.update`. Not part of an interactive
   * transaction: it runs on its own connection.
   */
  updateText(id: string, change: PostTextChange): Promise<Post | null>;
}

export interface PublishPostEventsOptions {
  readonly pubsub: PubSub;
  readonly logger: Logger;
  /** Where `post.updateText` runs its statement. */
  readonly sql: SqlQuery;
  /** Told the written row and its version (the `updatedAt` its event carries), for local subscribers. */
  readonly onWritten?: (row: Post, version: number) => void;
}

/**
 * The old system's post_save signal. The write's `postUpdated` event is appended to the event log by the
 * database in the write's own transaction (event_log migration); after the write returns, this rings the
 * topic's doorbell, hands the written row to local subscribers (keyed by its version, the `updatedAt` the
 * event carries), and tells every instance to drop cached visibility when the status changed.
 */
export function publishPostEvents({ pubsub, logger, sql, onWritten }: PublishPostEventsOptions) {
  /** `wholeRow`: the write returned every column, so the row is what subscribers would load. */
  const written = (row: PostRow, wholeRow: boolean) => {
    if (wholeRow && row.updatedAt instanceof Date) onWritten?.(row as unknown as Post, row.updatedAt.getTime());
    pubsub.appended(topics.postUpdated(row.id));
  };
  const visibilityChanged = (postId: string) => {
    pubsub
      .publish(topics.postVisibilityChanged(), { postId })
      .catch((error: unknown) => logger.warn({ err: error, postId }, 'postVisibilityChanged publish failed'));
  };
  const updateText: PostWrites['updateText'] = async (id, change) => {
    const row = await updatePostText(sql, id, change);
    if (row) written(row, true);
    return row;
  };
  return Prisma.defineExtension({
    name: 'publish-post-events',
    model: { post: { updateText } },
    query: {
      post: {
        async create({ args, query }) {
          const result = (await query(args)) as unknown as PostRow;
          written(result, isWholeRow(args));
          return result as never;
        },
        async update({ args, query }) {
          const result = (await query(args)) as unknown as PostRow;
          written(result, isWholeRow(args));
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
