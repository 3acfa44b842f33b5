/**
 * The staff analytics dashboard (the old `client --test analytics`): the snapshot now, then live
 * snapshots; records a page view so one arrives. Needs a STAFF token.
 *   npx tsx examples/analytics.ts --url http://localhost:4000/graphql --token T [--count 2]
 */
import { AnalyticsDocument, OnAnalyticsDashboardDocument, TrackPageViewDocument } from '../src/generated/graphql/graphql.js';
import { connect, exampleOptions, request, run, show, subscribe } from './lib/herald-client.js';

run(async () => {
  const options = exampleOptions(['count']);
  const count = Number(options.values.count ?? 2);
  show('analytics', (await request(options, AnalyticsDocument)).analytics);

  const client = connect(options);
  let received = 0;
  for await (const event of subscribe(client, OnAnalyticsDashboardDocument)) {
    const { liveVisitors, activeConnections, pageViewsLastHour, pageViewsToday, timestamp } = event.analyticsDashboard;
    show('analyticsDashboard', { liveVisitors, activeConnections, pageViewsLastHour, pageViewsToday, timestamp });
    if (received === 0) await request(options, TrackPageViewDocument, { path: '/examples/analytics' });
    if (++received >= count) break;
  }
  await client.dispose();
});
