import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PubSubObserver } from '../realtime/pubsub.js';
import { shareWithClusterPrimary } from './cluster-metrics.js';

/**
 * Herald's Prometheus metrics, on a per-app Registry (not prom-client's global one) so several apps in
 * one process — tests, benchmarks — never collide. Names are documented in the README.
 */
export class HeraldMetrics {
  readonly registry = new Registry();

  /** Open WebSocket connections on this instance. */
  readonly openConnections = new Gauge({ name: 'herald_ws_connections_open', help: 'Open WebSocket connections on this instance', registers: [this.registry] });
  readonly connectionsOpened = new Counter({ name: 'herald_ws_connections_opened_total', help: 'WebSocket connections admitted', registers: [this.registry] });
  /** Closes by WebSocket close code (1001 shutdown, 4008 per-user cap, 4403 token, 4410 idle, ...). */
  readonly closes = new Counter({ name: 'herald_ws_closes_total', help: 'WebSocket connections closed, by close code', labelNames: ['code'] as const, registers: [this.registry] });
  readonly authFailures = new Counter({
    name: 'herald_ws_auth_failures_total',
    help: 'WebSocket connections refused or closed for a bad, revoked or expired token',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly activeSubscriptions = new Gauge({
    name: 'herald_ws_subscriptions_active',
    help: 'Running WebSocket subscriptions on this instance, by root field',
    labelNames: ['field'] as const,
    registers: [this.registry],
  });
  readonly operationsRejected = new Counter({
    name: 'herald_ws_operations_rejected_total',
    help: 'WebSocket operations refused by a per-connection limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly eventsPublished = new Counter({ name: 'herald_events_published_total', help: 'Events published by this instance, by topic', labelNames: ['topic'] as const, registers: [this.registry] });
  readonly eventsDelivered = new Counter({
    name: 'herald_events_delivered_total',
    help: 'Events handed to a subscriber on this instance (one per subscriber), by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly eventsDropped = new Counter({
    name: 'herald_events_dropped_total',
    help: 'Events dropped before delivery (slow consumer overflow, or expired in the queue), by topic and reason',
    labelNames: ['topic', 'reason'] as const,
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'herald_event_delivery_latency_seconds',
    help: "Time from an event's publication (its timestamp) to its delivery to a subscriber on this instance",
    labelNames: ['topic'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly openStreams = new Gauge({ name: 'herald_pubsub_streams_open', help: 'Subscriber streams listening on this instance, by topic', labelNames: ['topic'] as const, registers: [this.registry] });

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_' });
    // Under WEB_CONCURRENCY the primary gathers every worker's registry for CLUSTER_METRICS_PORT.
    shareWithClusterPrimary(this.registry);
  }

  /** The PubSub hooks (its constructor's 4th parameter) feeding the event metrics. */
  pubsubObserver(): PubSubObserver {
    return {
      published: (topic) => this.eventsPublished.inc({ topic }),
      dropped: (topic, reason) => this.eventsDropped.inc({ topic, reason }),
      streamOpened: (topic) => this.openStreams.inc({ topic }),
      streamClosed: (topic) => this.openStreams.dec({ topic }),
      delivered: (topic, publishedAtMs) => {
        const child = this.deliveryChild(topic);
        child.delivered.inc();
        if (Number.isFinite(publishedAtMs)) child.latency.observe(Math.max(0, Date.now() - publishedAtMs) / 1000);
      },
    };
  }

  // `delivered` runs once per event per subscriber: resolve the labelled children once per topic
  // instead of hashing the label set on every call.
  private readonly deliveryChildren = new Map<string, { delivered: Counter.Internal; latency: Histogram.Internal<'topic'> }>();
  private deliveryChild(topic: string): { delivered: Counter.Internal; latency: Histogram.Internal<'topic'> } {
    let child = this.deliveryChildren.get(topic);
    if (!child) {
      child = { delivered: this.eventsDelivered.labels({ topic }), latency: this.deliveryLatency.labels({ topic }) };
      this.deliveryChildren.set(topic, child);
    }
    return child;
  }

  /** Prometheus text exposition format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
