import { builder } from '../../graphql/builder.js';
import { limitSubject } from '../../graphql/rate-limit-subject.js';
import { PostRef } from '../posts/post.schema.js';
import { viewerKeyOf } from '../posts/viewer-key.js';
import { PATH_MAX } from './page-path.js';
import { TOP_PATHS, TOP_POSTS, type AnalyticsSnapshot } from './analytics-snapshot.js';

type TopPostShape = AnalyticsSnapshot['topPosts'][number];
type TopPathShape = AnalyticsSnapshot['topPaths'][number];

const AnalyticsTopPostRef = builder.objectRef<TopPostShape>('AnalyticsTopPost').implement({
  description: 'A published post and its view count.',
  fields: (t) => ({
    post: t.field({ type: PostRef, description: 'The post.', resolve: (p) => p.post }),
    views: t.exposeInt('views', { description: 'Counted views (once per viewer per 30 minutes).' }),
  }),
});

const AnalyticsTopPathRef = builder.objectRef<TopPathShape>('AnalyticsTopPath').implement({
  description: 'A page path and how often it was viewed today (UTC).',
  fields: (t) => ({
    path: t.exposeString('path', { description: 'The path as reported by trackPageView.' }),
    views: t.exposeInt('views', { description: 'Page views of this path since UTC midnight.' }),
  }),
});

const AnalyticsSnapshotRef = builder.objectRef<AnalyticsSnapshot>('AnalyticsSnapshot').implement({
  description: 'The staff dashboard: live figures of the whole deployment at one moment.',
  fields: (t) => ({
    liveVisitors: t.exposeInt('liveVisitors', {
      description: 'Distinct visitors seen in the last 5 minutes (a page view, or a signed-in WebSocket connection), across all instances.',
    }),
    activeConnections: t.exposeInt('activeConnections', { description: 'Open WebSocket connections on all instances.' }),
    pageViewsLastHour: t.exposeInt('pageViewsLastHour', { description: 'Page views in the last 60 minutes.' }),
    pageViewsToday: t.exposeInt('pageViewsToday', { description: 'Page views since UTC midnight.' }),
    topPosts: t.field({
      type: [AnalyticsTopPostRef],
      description: `The ${TOP_POSTS} most viewed published posts, most viewed first.`,
      resolve: (s) => s.topPosts,
    }),
    topPaths: t.field({
      type: [AnalyticsTopPathRef],
      description: `The ${TOP_PATHS} most viewed paths today (UTC), most viewed first.`,
      resolve: (s) => s.topPaths,
    }),
    timestamp: t.field({ type: 'DateTime', description: 'When these figures were read.', resolve: (s) => s.timestamp }),
    eventId: t.exposeString('eventId', { description: 'Identity of this snapshot (ULID: later snapshots sort after earlier ones).' }),
  }),
});

builder.queryField('analytics', (t) =>
  t.field({
    type: AnalyticsSnapshotRef,
    description: 'The staff dashboard figures now. Staff only (FORBIDDEN otherwise; UNAUTHENTICATED without a token).',
    authScopes: { staff: true },
    resolve: (_r, _a, ctx) => ctx.services.analytics.snapshot(),
  }),
);

builder.mutationField('trackPageView', (t) =>
  t.field({
    type: 'Boolean',
    description: `Records a page view (anonymous allowed; anonymous visitors are told apart by client id). The path must start with '/' and be at most ${PATH_MAX} characters (BAD_USER_INPUT otherwise). Rate limited. Always true.`,
    args: { path: t.arg.string({ required: true, description: "The page's path, e.g. /posts/42." }) },
    resolve: async (_r, { path }, ctx) => {
      await ctx.services.rateLimits.consume('trackPageView', limitSubject(ctx));
      await ctx.services.analytics.trackPageView(path, { viewer: ctx.viewer, visitorKey: viewerKeyOf(ctx) });
      return true;
    },
  }),
);

builder.subscriptionField('analyticsDashboard', (t) =>
  t.field({
    type: AnalyticsSnapshotRef,
    description:
      'The staff dashboard, live: a snapshot at once, then on change (at most once per second) and at least every 30 seconds. Staff only: FORBIDDEN (or UNAUTHENTICATED) when the subscription starts.',
    authScopes: { staff: true },
    subscribe: (_r, _a, ctx) => ctx.services.analytics.dashboard(),
    resolve: (snapshot) => snapshot,
  }),
);
