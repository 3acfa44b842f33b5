import { builder } from '../../graphql/builder.js';
import { limitSubject } from '../../graphql/rate-limit-subject.js';
import type { Post } from '../../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';
import { topics, type TopicEvent } from '../../realtime/topics.js';
import { newEventIdentity } from '../../realtime/event-id.js';
import { UserRef } from '../users/user.schema.js';
import { canSeePost } from './visibility.js';
import type { PostCounts } from './post-stats.store.js';
import { viewerKeyOf } from './viewer-key.js';
import { forwardPage, pageOf } from '../../graphql/pagination.js';
import { subscribeToPost } from './post-subscription.js';
import { RESUME_ARGUMENT } from '../../graphql/resume-argument.js';

export const PostStatusEnum = builder.enumType('PostStatus', {
  description: 'DRAFT and ARCHIVED posts are visible only to their author and staff.',
  values: ['DRAFT', 'PUBLISHED', 'ARCHIVED'] as const,
});

export const PostChangeEnum = builder.enumType('PostChange', {
  values: ['CREATED', 'UPDATED', 'PUBLISHED', 'DELETED'] as const,
});

type PostStatsShape = PostCounts & { eventId: string; timestamp: string };

export const PostStatsRef = builder.objectRef<PostStatsShape>('PostStats').implement({
  description: "A post's live counters.",
  fields: (t) => ({
    postId: t.exposeID('postId'),
    viewCount: t.exposeInt('viewCount'),
    likeCount: t.exposeInt('likeCount'),
    commentCount: t.exposeInt('commentCount', { description: 'Approved comments.' }),
    eventId: t.exposeString('eventId', { description: 'Identity of the change this state follows (sortable).' }),
    timestamp: t.field({ type: 'DateTime', resolve: (s) => s.timestamp }),
  }),
});

export const PostRef = builder.objectRef<Post>('Post').implement({
  description: 'A blog post.',
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title'),
    content: t.exposeString('content'),
    status: t.field({ type: PostStatusEnum, resolve: (p) => p.status }),
    author: t.field({ type: UserRef, resolve: (p, _a, ctx) => ctx.services.users.require(p.authorId) }),
    viewCount: t.exposeInt('viewCount'),
    likeCount: t.exposeInt('likeCount'),
    commentCount: t.exposeInt('commentCount'),
    likedByMe: t.boolean({
      description: 'Whether the viewer likes this post (false without a token).',
      viewerDependent: true,
      resolve: (p, _a, ctx) => (ctx.viewer ? ctx.services.posts.likedBy(p.id, ctx.viewer.id) : false),
    }),
    publishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.publishedAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (p) => p.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (p) => p.updatedAt }),
  }),
});

type PostUpdatedShape = TopicEvent<'postUpdated'>;

const PostUpdatedRef = builder.objectRef<PostUpdatedShape>('PostUpdatedEvent').implement({
  description: 'A change to a post’s content or status.',
  fields: (t) => ({
    eventId: t.exposeString('eventId'),
    timestamp: t.field({ type: 'DateTime', resolve: (e) => e.timestamp }),
    postId: t.exposeID('postId'),
    change: t.field({ type: PostChangeEnum, resolve: (e) => e.change }),
    post: t.field({
      type: PostRef,
      nullable: true,
      description: 'The post as it is now (null once deleted).',
      resolve: (e, _a, ctx) => ctx.services.posts.loadForEvent(e.postId, e.version),
    }),
  }),
});

const CreatePostInput = builder.inputType('CreatePostInput', {
  fields: (t) => ({
    title: t.string({ required: true, description: '1-200 characters.' }),
    content: t.string({ required: true }),
  }),
});

const UpdatePostInput = builder.inputType('UpdatePostInput', {
  fields: (t) => ({ title: t.string(), content: t.string() }),
});

builder.queryFields((t) => ({
  post: t.field({
    type: PostRef,
    nullable: true,
    description: 'A post by id; null when it does not exist or the viewer may not see it (drafts).',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.posts.find(String(id), ctx.viewer),
  }),
  posts: t.connection(
    {
      type: PostRef,
      description: 'Newest first (`first` 1-100, default 20). Published posts, plus drafts for their author (authorId = self) and staff.',
      args: { authorId: t.arg.id() },
      resolve: async (_r, args, ctx) => {
        const { first, after } = forwardPage(args);
        const rows = await ctx.services.posts.list(ctx.viewer, { first, after, authorId: args.authorId ? String(args.authorId) : null });
        return pageOf(rows, first, (p) => p.id, after);
      },
    },
    { name: 'PostConnection' },
    { name: 'PostEdge' },
  ),
  postStats: t.field({
    type: PostStatsRef,
    description: "A post's current counters (the old get_stats).",
    args: { postId: t.arg.id({ required: true }) },
    resolve: async (_r, { postId }, ctx) => {
      await ctx.services.posts.requireVisible(String(postId), ctx.viewer);
      return { ...(await ctx.services.posts.statsOf(String(postId))), ...newEventIdentity() };
    },
  }),
}));

builder.mutationFields((t) => ({
  createPost: t.field({
    type: PostRef,
    description: 'Creates a draft owned by the viewer.',
    authScopes: { loggedIn: true },
    args: { input: t.arg({ type: CreatePostInput, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.posts.create(ctx.viewer!, input),
  }),
  updatePost: t.field({
    type: PostRef,
    description: 'Author or staff.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdatePostInput, required: true }) },
    authScopes: (_r, args) => ({ postAuthor: String(args.id), staff: true }),
    resolve: (_r, { id, input }, ctx) => ctx.services.posts.update(String(id), input),
  }),
  publishPost: t.field({
    type: PostRef,
    description: 'Author or staff. Every other user is notified (BLOG_POST_PUBLISHED). Publishing again is a no-op.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_r, args) => ({ postAuthor: String(args.id), staff: true }),
    resolve: (_r, { id }, ctx) => ctx.services.posts.publish(String(id)),
  }),
  trackPostView: t.field({
    type: PostStatsRef,
    description: 'Counts a view (once per viewer per 30 minutes; anonymous viewers by client id) and returns the counters.',
    args: { postId: t.arg.id({ required: true }) },
    resolve: async (_r, { postId }, ctx) => {
      await ctx.services.rateLimits.consume('trackPostView', limitSubject(ctx));
      const counts = await ctx.services.posts.trackView(String(postId), viewerKeyOf(ctx), ctx.viewer);
      return { ...counts, ...newEventIdentity() };
    },
  }),
  likePost: t.field({
    type: PostStatsRef,
    description: 'Idempotent: liking twice counts once. The author is notified (POST_LIKED).',
    authScopes: { loggedIn: true },
    args: { postId: t.arg.id({ required: true }) },
    resolve: async (_r, { postId }, ctx) => ({ ...(await ctx.services.posts.like(String(postId), ctx.viewer!)), ...newEventIdentity() }),
  }),
  unlikePost: t.field({
    type: PostStatsRef,
    description: 'Idempotent.',
    authScopes: { loggedIn: true },
    args: { postId: t.arg.id({ required: true }) },
    resolve: async (_r, { postId }, ctx) => ({ ...(await ctx.services.posts.unlike(String(postId), ctx.viewer!)), ...newEventIdentity() }),
  }),
}));

/** Per event and subscriber; one function for all of them (a closure per subscription would be kept for its life). */
const postUpdateVisible = (event: TopicEvent<'postUpdated'>, viewer: Viewer | null): boolean =>
  canSeePost({ status: event.status, authorId: event.authorId }, viewer);

builder.subscriptionFields((t) => ({
  postUpdated: t.field({
    type: PostUpdatedRef,
    description: 'Content and status changes of one post. NOT_FOUND when the post does not exist or the viewer may not see it.',
    args: { postId: t.arg.id({ required: true }), after: t.arg.string(RESUME_ARGUMENT) },
    subscribe: (_r, { postId, after }, ctx) =>
      subscribeToPost(ctx, String(postId), topics.postUpdated, {
        filter: postUpdateVisible,
        after: after ?? ctx.lastEventId,
      }),
    resolve: (event) => event,
  }),
  postStats: t.field({
    type: PostStatsRef,
    description: 'The counters now, then every change (coalesced: bursts arrive as a few updates with the latest counts).',
    args: { postId: t.arg.id({ required: true }) },
    subscribe: (_r, { postId }, ctx) =>
      subscribeToPost<'postStatsChanged', PostStatsShape>(ctx, String(postId), topics.postStatsChanged, {
        overflow: 'keepLatest',
        initial: async (id) => ({ ...(await ctx.services.posts.statsOf(id)), ...newEventIdentity() }),
      }),
    resolve: (event) => event,
  }),
}));
