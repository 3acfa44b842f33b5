import type { PrismaClient } from '../../data/db.js';
import type { PubSub } from '../../realtime/pubsub.js';
import type { ConnectionEvents, ConnectionInfo } from '../connections/connection-events.js';
import { topics, type TopicPayloads } from '../../realtime/topics.js';
import type { Viewer } from '../auth/viewer.js';
import { computeSnapshot, type AnalyticsSnapshot } from './analytics-snapshot.js';
import { DashboardFeed } from './dashboard-feed.js';
import { LIVE_WINDOW_MS, LiveVisitorTracker } from './live-visitors.js';
import type { VisitorStore } from './visitor.store.js';
import { validatePagePath } from './page-path.js';
import { Coalescer } from '../../shared/coalescer.js';

export interface AnalyticsDeps {
  readonly db: PrismaClient;
  readonly pubsub: PubSub;
  /** Where live visitors are counted (shared through Redis when configured). */
  readonly visitorStore: VisitorStore;
  readonly connectionEvents: ConnectionEvents;
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly onError: (error: unknown, what: string) => void;
}

/** Who viewed a page: the user, or an anonymous visitor key (client id or hashed address + agent). */
export interface PageVisitor {
  readonly viewer: Viewer | null;
  /** Stable key of the visitor, e.g. `user:<id>` or `anon:<client id>` (see posts/viewer-key.ts). */
  readonly visitorKey: string;
}

type ChangeReason = TopicPayloads['analyticsChanged']['reason'];

/**
 * Page views, live visitors and the staff dashboard. Writes publish `analyticsChanged` (a tiny
 * signal, no figures); each instance's DashboardFeed turns those signals into shared snapshots.
 */
export class AnalyticsService {
  readonly visitors: LiveVisitorTracker;
  private readonly feed: DashboardFeed<AnalyticsSnapshot>;
  private readonly unlisten: (() => void)[] = [];
  /** Dashboards redraw at most once per minIntervalMs, so a burst of writes needs only a leading and a trailing signal. */
  private readonly signals: Coalescer<ChangeReason>;

  constructor(private readonly deps: AnalyticsDeps) {
    this.signals = new Coalescer(deps.minIntervalMs, (reason) => {
      deps.pubsub.publish(topics.analyticsChanged(), { reason }).catch((error: unknown) => deps.onError(error, 'analyticsChanged publish'));
    });
    this.visitors = new LiveVisitorTracker(deps.visitorStore, { windowMs: LIVE_WINDOW_MS, onError: deps.onError });
    this.feed = new DashboardFeed<AnalyticsSnapshot>({
      compute: () => this.snapshot(),
      listen: (onChange) => deps.pubsub.listen(topics.analyticsChanged(), onChange),
      minIntervalMs: deps.minIntervalMs,
      maxIntervalMs: deps.maxIntervalMs,
      onError: deps.onError,
    });
  }

  /** Starts counting signed-in users with an open socket as live visitors, for as long as it stays open. */
  start(): void {
    if (this.unlisten.length > 0) return;
    this.unlisten.push(this.deps.connectionEvents.onOpened((info) => this.connectionChanged(info, 'opened')));
    this.unlisten.push(this.deps.connectionEvents.onClosed((info) => this.connectionChanged(info, 'closed')));
  }

  /** Stores one page view, marks its visitor live and tells dashboards. Throws BAD_USER_INPUT for a bad path. */
  async trackPageView(rawPath: string, visitor: PageVisitor): Promise<void> {
    const path = validatePagePath(rawPath);
    await this.deps.db.pageView.create({
      data: { path, userId: visitor.viewer?.id ?? null, visitorId: visitor.viewer ? null : visitor.visitorKey },
    });
    // The view is stored; failing to mark liveness or to signal must not fail the request.
    await this.visitors.seen(visitor.visitorKey).catch((error: unknown) => this.deps.onError(error, 'live visitor mark'));
    this.signal('PAGE_VIEW');
  }

  /** The dashboard figures now (one fresh computation). */
  snapshot(): Promise<AnalyticsSnapshot> {
    return computeSnapshot(this.deps.db, this.visitors);
  }

  /** A snapshot at once, then shared, coalesced snapshots on change and at least every max interval. */
  dashboard(): Promise<AsyncIterableIterator<AnalyticsSnapshot>> {
    return this.feed.subscribe();
  }

  /** Tells every instance's dashboards that figures changed (e.g. post views, connections). */
  signal(reason: ChangeReason): void {
    this.signals.touch(reason);
  }

  stop(): void {
    for (const stop of this.unlisten.splice(0)) stop();
    this.signals.clear();
    this.feed.stop();
    this.visitors.stop();
  }

  /**
   * Not awaited by the connection: its mark is written with the others of a short window (LiveVisitorTracker),
   * and the socket need not wait for the dashboards' bookkeeping. Dashboards are told once the mark is written.
   */
  private connectionChanged(info: ConnectionInfo, change: 'opened' | 'closed'): void {
    if (!info.viewer) {
      this.signal('CONNECTION');
      return;
    }
    const key = `user:${info.viewer.id}`;
    const marked = change === 'opened' ? this.visitors.connected(key) : this.visitors.disconnected(key);
    void marked
      .catch((error: unknown) => this.deps.onError(error, 'live visitor mark'))
      .then(() => this.signal('CONNECTION'));
  }
}
