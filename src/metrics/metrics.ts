import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DeliveryTally } from './delivery-tally.js';
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
  readonly eventsDropped = new Counter({
    name: 'herald_events_dropped_total',
    help: 'Events dropped before delivery (slow consumer overflow, or expired in the queue), by topic and reason',
    labelNames: ['topic', 'reason'] as const,
    registers: [this.registry],
  });
  /** herald_events_delivered_total and herald_event_delivery_latency_seconds, once per subscriber per event. */
  private readonly deliveries = new DeliveryTally();
  readonly openStreams = new Gauge({ name: 'herald_pubsub_streams_open', help: 'Subscriber streams listening on this instance, by topic', labelNames: ['topic'] as const, registers: [this.registry] });

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_' });
    // Under WEB_CONCURRENCY the primary gathers every worker's registry for CLUSTER_METRICS_PORT.
    shareWithClusterPrimary(this.registry);
    this.deliveries.register(this.registry);
  }

  /** The PubSub hooks (its constructor's 4th parameter) feeding the event metrics. */
  pubsubObserver(): PubSubObserver {
    return {
      published: (topic) => this.eventsPublished.inc({ topic }),
      dropped: (topic, reason) => this.eventsDropped.inc({ topic, reason }),
      streamOpened: (topic) => this.openStreams.inc({ topic }),
      streamClosed: (topic) => this.openStreams.dec({ topic }),
      delivered: (topic, publishedAtMs) => this.deliveries.record(topic, (Date.now() - publishedAtMs) / 1000),
    };
  }

  /** Prometheus text exposition format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
