import { builder } from '../../graphql/builder.js';
import { limitSubject } from '../../graphql/rate-limit-subject.js';
import type { Context } from '../../graphql/context.js';
import type { Comment } from '../../generated/prisma/client.js';
import { notFound } from '../../shared/errors.js';
import type { Viewer } from '../auth/viewer.js';
import { topics, type TopicEvent } from '../../realtime/topics.js';
import { forwardPage, pageOf } from '../../graphql/pagination.js';
import { subscribeToPost } from '../posts/post-subscription.js';
import { PostRef } from '../posts/post.schema.js';
import { UserRef } from '../users/user.schema.js';
import { canSeeComment } from './comment-visibility.js';
import { COMMENT_MAX_CHARS } from './comment.service.js';
import { RESUME_ARGUMENT } from '../../graphql/resume-argument.js';

export const CommentStatusEnum = builder.enumType('CommentStatus', {
  description: 'PENDING comments are seen by the post’s author, staff and the commenter; APPROVED ones by everyone.',
  values: ['PENDING', 'APPROVED', 'REJECTED'] as const,
});

export const CommentRef = builder.objectRef<Comment>('Comment').implement({
  description: 'A comment on a post. `content` is the text as written (trimmed): clients must escape it when rendering.',
  fields: (t) => ({
    id: t.exposeID('id'),
    postId: t.exposeID('postId'),
    post: t.field({
      type: PostRef,
      // requireVisible(post, viewer): a draft's comments resolve their post for its author and staff only.
      viewerDependent: true,
      resolve: (c, _a, ctx) => ctx.services.posts.requireVisible(c.postId, ctx.viewer),
    }),
    author: t.field({ type: UserRef, resolve: (c, _a, ctx) => ctx.services.users.require(c.authorId) }),
    content: t.exposeString('content'),
    status: t.field({ type: CommentStatusEnum, resolve: (c) => c.status }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (c) => c.updatedAt }),
  }),
});

type CommentEventShape = TopicEvent<'commentAdded'> | TopicEvent<'commentApproved'>;

function existingComment(comment: Comment | null): Comment {
  if (!comment) throw notFound('Comment');
  return comment;
}

const CommentEventRef = builder.objectRef<CommentEventShape>('CommentEvent').implement({
  description: 'A comment was added or approved.',
  fields: (t) => ({
    eventId: t.exposeString('eventId', { description: 'Identity of the event (sortable, unique across instances).' }),
    timestamp: t.field({ type: 'DateTime', resolve: (e) => e.timestamp }),
    postId: t.exposeID('postId'),
    comment: t.field({
      type: CommentRef,
      description: 'The comment as it is now.',
      // Synchronous once the row is known, so the event's shared execution can finish in the same turn.
      resolve: (e, _a, ctx) => {
        const loaded = ctx.services.comments.loadForEvent(e.commentId, e.eventId);
        return loaded instanceof Promise ? loaded.then(existingComment) : existingComment(loaded);
      },
    }),
  }),
});

builder.queryFields((t) => ({
  comments: t.connection(
    {
      type: CommentRef,
      description:
        'A post’s comments, oldest first (`first` 1-100, default 20): approved ones, plus pending ones for the post’s author and staff (all) and the commenter (own). NOT_FOUND when the post does not exist or the viewer may not see it.',
      args: { postId: t.arg.id({ required: true }) },
      resolve: async (_r, args, ctx) => {
        const { first, after } = forwardPage(args);
        const rows = await ctx.services.comments.list(ctx.viewer, String(args.postId), { first, after });
        return pageOf(rows, first, (c) => c.id, after);
      },
    },
    { name: 'CommentConnection' },
    { name: 'CommentEdge' },
  ),
}));

builder.mutationFields((t) => ({
  addComment: t.field({
    type: CommentRef,
    description: `Comments on a post the viewer may see. Content is trimmed, 1-${COMMENT_MAX_CHARS} characters, stored as written. PENDING unless the post’s author or staff writes it (then APPROVED). The post’s author is notified (COMMENT_ADDED).`,
    authScopes: { loggedIn: true },
    args: { postId: t.arg.id({ required: true }), content: t.arg.string({ required: true }) },
    resolve: async (_r, { postId, content }, ctx) => {
      await ctx.services.rateLimits.consume('addComment', limitSubject(ctx));
      return ctx.services.comments.add(ctx.viewer!, String(postId), content);
    },
  }),
  approveComment: t.field({
    type: CommentRef,
    description: 'Post author or staff. Makes the comment visible to everyone and counts it; the commenter is notified (COMMENT_APPROVED). Idempotent.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: moderatorOfComment,
    resolve: (_r, { id }, ctx) => ctx.services.comments.approve(ctx.viewer!, String(id)),
  }),
  rejectComment: t.field({
    type: CommentRef,
    description: 'Post author or staff. Hides the comment (and uncounts it if it was approved). Idempotent.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: moderatorOfComment,
    resolve: (_r, { id }, ctx) => ctx.services.comments.reject(ctx.viewer!, String(id)),
  }),
}));

/** Logged in first (UNAUTHENTICATED), then NOT_FOUND for an unknown comment, then its post's author or staff. */
async function moderatorOfComment(_root: unknown, args: { id: string | number }, ctx: Context) {
  if (!ctx.viewer) return { loggedIn: true };
  const comment = await ctx.services.comments.require(String(args.id));
  return { postAuthor: comment.postId, staff: true };
}

/** Per event and subscriber; one function for all of them (a closure per subscription would be kept for its life). */
const commentEventVisible = (event: TopicEvent<'commentAdded'> | TopicEvent<'commentApproved'>, viewer: Viewer | null): boolean => canSeeComment(event, event.postAuthorId, viewer);

builder.subscriptionFields((t) => ({
  commentAdded: t.field({
    type: CommentEventRef,
    description:
      'New comments on a post. Approved ones reach everyone who may see the post; pending ones only the post’s author, staff and the commenter. NOT_FOUND when the post does not exist or the viewer may not see it.',
    args: { postId: t.arg.id({ required: true }), after: t.arg.string(RESUME_ARGUMENT) },
    subscribe: (_r, { postId, after }, ctx) =>
      subscribeToPost(ctx, String(postId), topics.commentAdded, { filter: commentEventVisible, after: after ?? ctx.lastEventId }),
    resolve: (event) => event,
  }),
  commentApproved: t.field({
    type: CommentEventRef,
    description: 'Comments approved on a post, for everyone who may see the post. NOT_FOUND when the post does not exist or the viewer may not see it.',
    args: { postId: t.arg.id({ required: true }), after: t.arg.string(RESUME_ARGUMENT) },
    subscribe: (_r, { postId, after }, ctx) =>
      subscribeToPost(ctx, String(postId), topics.commentApproved, { filter: commentEventVisible, after: after ?? ctx.lastEventId }),
    resolve: (event) => event,
  }),
}));
