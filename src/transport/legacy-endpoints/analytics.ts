import { LegacyAnalyticsDashboardDocument, LegacyAnalyticsDocument, type LegacyAnalyticsFieldsFragment } from '../../generated/graphql/graphql.js';
import type { EndpointSession, LegacyEndpoint } from './endpoint.js';

/** The old dashboard data (`total_views`, `active_visitors`), with what Herald measures besides. */
function dashboardData(snapshot: LegacyAnalyticsFieldsFragment): Record<string, unknown> {
  return {
    total_views: snapshot.pageViewsToday,
    page_views_last_hour: snapshot.pageViewsLastHour,
    active_visitors: snapshot.liveVisitors,
    active_connections: snapshot.activeConnections,
    top_paths: snapshot.topPaths.map((top) => ({ path: top.path, views: top.views })),
    top_posts: snapshot.topPosts.map((top) => ({ post_id: top.post.id, title: top.post.title, views: top.views })),
    timestamp: snapshot.timestamp,
  };
}

const KEY = 'analytics';

/**
 * `/ws/analytics/dashboard/` (the old AnalyticsDashboardConsumer, staff only): `subscription
 * analyticsDashboard`, whose first snapshot is the old `dashboard_data` and every later one an
 * `analytics_update`; `refresh_dashboard` → `query analytics` → `dashboard_data`. Anyone but staff is
 * refused by the subscription's own scope (FORBIDDEN, closed with 4003).
 */
export const analyticsEndpoint: LegacyEndpoint = {
  name: 'AnalyticsDashboardConsumer',
  authenticates: true,
  opened(session) {
    return new Promise<void>((resolve) => {
      let first = true;
      const started = session.subscribe(
        KEY,
        LegacyAnalyticsDashboardDocument,
        {},
        ({ analyticsDashboard: snapshot }) => {
          const type = first ? 'dashboard_data' : 'analytics_update';
          if (first) resolve();
          first = false;
          return session.send(type, dashboardData(snapshot), snapshot.timestamp);
        },
        {
          refused: (errors) => {
            session.refuse(errors);
            resolve();
          },
        },
      );
      if (!started) resolve();
    });
  },
  messages: {
    refresh_dashboard: (session: EndpointSession) => session.run(LegacyAnalyticsDocument, {}, ({ analytics }) => session.send('dashboard_data', dashboardData(analytics), analytics.timestamp)),
  },
};
