import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, startTestApp, type TestApp } from '../helpers/test-app.js';
import { bearer, connectWs, gql, gqlOk, Subscription, type WsHandle } from '../helpers/clients.js';
import { registerStaff, registerUser, type TestUser } from '../helpers/users.js';
import {
  AnalyticsDocument,
  OnAnalyticsDashboardDocument,
  TrackPageViewDocument,
  type AnalyticsQuery,
  type OnAnalyticsDashboardSubscription,
} from '../../src/generated/graphql/graphql.js';

const DASHBOARD = print(OnAnalyticsDashboardDocument);
const TRACK = print(TrackPageViewDocument);
const ANALYTICS = print(AnalyticsDocument);

type Dashboard = OnAnalyticsDashboardSubscription;

describe.runIf(backendAvailable())('analytics dashboard over graphql-ws', () => {
  let app: TestApp;
  let staff: TestUser;
  let reader: TestUser;
  const sockets: WsHandle[] = [];
  const subscriptions: Subscription<Dashboard>[] = [];

  function dashboardFor(user: TestUser | null): Subscription<Dashboard> {
    const ws = connectWs(app, user ? bearer(user.token) : {});
    sockets.push(ws);
    const sub = new Subscription<Dashboard>(ws.client, DASHBOARD);
    subscriptions.push(sub);
    return sub;
  }

  beforeAll(async () => {
    app = await startTestApp();
    staff = await registerStaff(app);
    reader = await registerUser(app, 'reader');
  });

  afterAll(async () => {
    for (const sub of subscriptions) sub.stop();
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  it('sends staff a snapshot at once, then an update with the new page view', async () => {
    const sub = dashboardFor(staff);
    const first = (await sub.until(() => true)).analyticsDashboard;
    expect(first.eventId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    // The staff socket itself is a signed-in connection: its user is a live visitor.
    expect(first.liveVisitors).toBeGreaterThanOrEqual(1);

    const tracked = await gqlOk<{ trackPageView: boolean }>(app, TRACK, { path: '/posts/hello' }, undefined);
    expect(tracked.trackPageView).toBe(true);
    const next = await sub.until((d) => d.analyticsDashboard.pageViewsLastHour === first.pageViewsLastHour + 1);
    expect(next.analyticsDashboard.pageViewsToday).toBe(first.pageViewsToday + 1);
    expect(next.analyticsDashboard.topPaths).toContainEqual({ path: '/posts/hello', views: expect.any(Number) });
    expect(next.analyticsDashboard.eventId > first.eventId).toBe(true);
    sub.stop();
  });

  it('counts an anonymous page viewer as a live visitor', async () => {
    const before = await gqlOk<AnalyticsQuery>(app, ANALYTICS, {}, staff.token);
    await gql(app, TRACK, { path: '/about' }, undefined, { 'x-client-id': `visitor-${Date.now()}` });
    const after = await gqlOk<AnalyticsQuery>(app, ANALYTICS, {}, staff.token);
    expect(after.analytics.liveVisitors).toBe(before.analytics.liveVisitors + 1);
    expect(after.analytics.pageViewsLastHour).toBe(before.analytics.pageViewsLastHour + 1);
  });

  it('refuses the dashboard to a reader when the subscription starts (FORBIDDEN)', async () => {
    const sub = dashboardFor(reader);
    expect(describeFailure(await sub.failure())).toContain('FORBIDDEN');
  });

  it('refuses the dashboard to an anonymous client (UNAUTHENTICATED)', async () => {
    const sub = dashboardFor(null);
    expect(describeFailure(await sub.failure())).toContain('UNAUTHENTICATED');
  });

  it('refuses the analytics query to a reader and to anonymous callers', async () => {
    const asReader = await gql(app, ANALYTICS, {}, reader.token);
    expect(asReader.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await gql(app, ANALYTICS, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['a relative path', 'posts/1'],
    ['an empty path', ''],
    ['a path longer than 2048 characters', `/${'a'.repeat(2048)}`],
  ])('rejects %s with BAD_USER_INPUT and stores nothing', async (_what, path) => {
    const before = await gqlOk<AnalyticsQuery>(app, ANALYTICS, {}, staff.token);
    const result = await gql(app, TRACK, { path }, reader.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const after = await gqlOk<AnalyticsQuery>(app, ANALYTICS, {}, staff.token);
    expect(after.analytics.pageViewsLastHour).toBe(before.analytics.pageViewsLastHour);
  });

  it('coalesces a burst of 50 page views into far fewer updates, the last carrying all 50', async () => {
    const sub = dashboardFor(staff);
    await sub.until(() => true);
    // The opening snapshot may be a shared one up to ANALYTICS_MIN_INTERVAL old: take the base from a fresh query.
    const first = (await gqlOk<AnalyticsQuery>(app, ANALYTICS, {}, staff.token)).analytics;
    const target = first.pageViewsLastHour + 50;
    await Promise.all(Array.from({ length: 50 }, (_, i) => gqlOk(app, TRACK, { path: `/burst/${i % 5}` }, staff.token)));
    let updates = 0;
    const last = await sub.until((d) => {
      updates++;
      return d.analyticsDashboard.pageViewsLastHour >= target;
    }, 10_000);
    expect(last.analyticsDashboard.pageViewsToday).toBe(first.pageViewsToday + 50);
    expect(updates).toBeLessThan(10);
    sub.stop();
  });
});

describe.runIf(backendAvailable())('analytics dashboard heartbeat, anonymous sockets allowed', () => {
  let app: TestApp;
  let staff: TestUser;
  const sockets: WsHandle[] = [];

  beforeAll(async () => {
    app = await startTestApp({ ANALYTICS_MAX_INTERVAL: '500ms', WS_JWT_AUTH_REQUIRED: 'false' });
    staff = await registerStaff(app);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
  });

  it('refuses the dashboard to an anonymous socket even when anonymous sockets are admitted', async () => {
    const ws = connectWs(app, {});
    sockets.push(ws);
    const sub = new Subscription<Dashboard>(ws.client, DASHBOARD);
    expect(describeFailure(await sub.failure())).toContain('UNAUTHENTICATED');
  });

  it('sends a fresh snapshot periodically without any change', async () => {
    const ws = connectWs(app, bearer(staff.token));
    sockets.push(ws);
    const sub = new Subscription<Dashboard>(ws.client, DASHBOARD);
    const first = (await sub.until(() => true)).analyticsDashboard;
    const beat = (await sub.until((d) => d.analyticsDashboard.eventId !== first.eventId, 5000)).analyticsDashboard;
    expect(beat.eventId > first.eventId).toBe(true);
    expect(beat.pageViewsLastHour).toBe(first.pageViewsLastHour);
    sub.stop();
  });
});

/** A subscription's failure as text: execution errors (an array) or a protocol error (an Error). */
function describeFailure(failure: unknown): string {
  return failure instanceof Error ? failure.message : JSON.stringify(failure);
}
