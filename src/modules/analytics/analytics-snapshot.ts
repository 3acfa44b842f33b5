import type { PrismaClient } from '../../data/db.js';
import type { Post } from '../../generated/prisma/client.js';
import { newEventIdentity } from '../../realtime/event-id.js';
import type { LiveVisitorTracker } from './live-visitors.js';

export const TOP_POSTS = 5;
export const TOP_PATHS = 5;
const HOUR_MS = 60 * 60_000;

/** One state of the staff dashboard; shared by every dashboard subscriber of an instance. */
export interface AnalyticsSnapshot {
  readonly liveVisitors: number;
  readonly activeConnections: number;
  readonly pageViewsLastHour: number;
  readonly pageViewsToday: number;
  readonly topPosts: readonly { readonly post: Post; readonly views: number }[];
  readonly topPaths: readonly { readonly path: string; readonly views: number }[];
  /** Stamped when the computation starts, so a later id always reflects data at least as new. */
  readonly eventId: string;
  readonly timestamp: string;
}

/** Start of the current UTC day. */
export function utcMidnight(now: number): Date {
  const day = new Date(now);
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
}

/** Reads the dashboard figures: five small indexed queries and one live-visitor count. */
export async function computeSnapshot(db: PrismaClient, visitors: LiveVisitorTracker, now = Date.now()): Promise<AnalyticsSnapshot> {
  const identity = newEventIdentity(now);
  const today = utcMidnight(now);
  const [liveVisitors, activeConnections, pageViewsLastHour, pageViewsToday, posts, paths] = await Promise.all([
    visitors.count(),
    db.webSocketConnection.count({ where: { closedAt: null } }),
    db.pageView.count({ where: { createdAt: { gte: new Date(now - HOUR_MS) } } }),
    db.pageView.count({ where: { createdAt: { gte: today } } }),
    db.post.findMany({ where: { status: 'PUBLISHED' }, orderBy: [{ viewCount: 'desc' }, { id: 'asc' }], take: TOP_POSTS }),
    db.pageView.groupBy({
      by: ['path'],
      where: { createdAt: { gte: today } },
      _count: { _all: true },
      orderBy: [{ _count: { path: 'desc' } }, { path: 'asc' }],
      take: TOP_PATHS,
    }),
  ]);
  return {
    liveVisitors,
    activeConnections,
    pageViewsLastHour,
    pageViewsToday,
    topPosts: posts.map((post) => ({ post, views: post.viewCount })),
    topPaths: paths.map((row) => ({ path: row.path, views: row._count._all })),
    ...identity,
  };
}
