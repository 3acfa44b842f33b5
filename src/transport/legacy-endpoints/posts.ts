import { GraphQLError } from 'graphql';
import {
  LegacyPostDocument,
  LegacyPostStatsDocument,
  LegacyPostStatsUpdatesDocument,
  LegacyPostUpdatesDocument,
  LegacyTrackPostViewDocument,
  type LegacyPostStatsFieldsFragment,
} from '../../generated/graphql/graphql.js';
import type { EndpointSession, LegacyEndpoint } from './endpoint.js';

/** The old `post_stats` data. */
export function postStatsData(stats: LegacyPostStatsFieldsFragment): Record<string, unknown> {
  return { post_id: stats.postId, view_count: stats.viewCount, comment_count: stats.commentCount, like_count: stats.likeCount };
}

const sendStats = (session: EndpointSession, stats: LegacyPostStatsFieldsFragment) => session.send('post_stats', postStatsData(stats), stats.timestamp);

const postId = (session: EndpointSession): string => session.postId as string;

/**
 * `/ws/blog/posts/{post_id}/` (the old PostConsumer): `post_data` on connect (`query post`; a post the
 * viewer may not see closes with 4004), `track_view` → `mutation trackPostView` (answered with the
 * counters as `post_stats`), `get_stats` → `query postStats`, `subscribe_updates` → `subscription
 * postStats` (`post_stats` on every change) and `subscription postUpdated` (`post_update`).
 */
export const postEndpoint: LegacyEndpoint = {
  name: 'PostConsumer',
  authenticates: true,
  opened(session) {
    return new Promise<void>((resolve) => {
      const refused = (errors: readonly GraphQLError[]) => {
        session.refuse(errors);
        resolve();
      };
      session.run(
        LegacyPostDocument,
        { id: postId(session) },
        ({ post }) => {
          if (!post) session.refuse([new GraphQLError('Post not found', { extensions: { code: 'NOT_FOUND' } })]);
          else {
            session.send('post_data', {
              id: post.id,
              title: post.title,
              status: post.status.toLowerCase(),
              author: post.author.username,
              published_at: post.publishedAt ?? null,
              view_count: post.viewCount,
              comment_count: post.commentCount,
              like_count: post.likeCount,
            });
          }
          resolve();
        },
        { refused },
      );
    });
  },
  messages: {
    track_view: (session) => session.run(LegacyTrackPostViewDocument, { postId: postId(session) }, (data) => sendStats(session, data.trackPostView)),
    get_stats: (session) => session.run(LegacyPostStatsDocument, { postId: postId(session) }, (data) => sendStats(session, data.postStats)),
    subscribe_updates: (session) => {
      const variables = { postId: postId(session) };
      session.subscribe('post-stats', LegacyPostStatsUpdatesDocument, variables, (data) => sendStats(session, data.postStats));
      session.subscribe('post-updates', LegacyPostUpdatesDocument, variables, ({ postUpdated: event }) =>
        session.send(
          'post_update',
          {
            post_id: event.postId,
            change: event.change.toLowerCase(),
            id: event.post?.id ?? event.postId,
            title: event.post?.title ?? null,
            content: event.post?.content ?? null,
            status: event.post?.status.toLowerCase() ?? null,
            published_at: event.post?.publishedAt ?? null,
            updated_at: event.post?.updatedAt ?? null,
          },
          event.timestamp,
        ),
      );
      // Again while subscribed is answered the same: the old consumer acknowledged every one.
      session.send('subscribed', { post_id: postId(session) });
    },
  },
};
