import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DELIVERY_LATENCY_BUCKETS, DeliveryTally } from '../../src/metrics/delivery-tally.js';

const COUNTER = 'herald_events_delivered_total';
const HISTOGRAM = 'herald_event_delivery_latency_seconds';

/** The same series from prom-client's own Counter and Histogram: what the tally must expose. */
function reference(deliveries: readonly [string, number][]): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ instance: 'i1' });
  const counter = new Counter({ name: COUNTER, help: 'Events handed to a subscriber on this instance (one per subscriber), by topic', labelNames: ['topic'], registers: [registry] });
  const histogram = new Histogram({
    name: HISTOGRAM,
    help: "Time from an event's publication (its timestamp) to its delivery to a subscriber on this instance",
    labelNames: ['topic'],
    buckets: [...DELIVERY_LATENCY_BUCKETS],
    registers: [registry],
  });
  for (const [topic, seconds] of deliveries) {
    counter.inc({ topic });
    if (Number.isFinite(seconds)) histogram.observe({ topic }, Math.max(0, seconds));
  }
  return registry;
}

/** Exposition lines with their labels in one order (Prometheus does not read the order), sorted. */
function normalised(text: string): string[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/\{([^}]*)\}/, (_all, labels: string) => `{${labels.split(',').sort().join(',')}}`))
    .sort();
}

describe('DeliveryTally', () => {
  // Boundaries (a value equal to a bound is in that bucket), past the last bound, negative (clock skew),
  // unknown publication times (counted, not observed), and topics interleaved.
  const deliveries: [string, number][] = [
    ['postUpdated', 0.0004],
    ['postUpdated', 0.001],
    ['postUpdated', 0.0011],
    ['commentAdded', 0.3],
    ['postUpdated', 10],
    ['postUpdated', 12],
    ['commentAdded', -0.002],
    ['postUpdated', Number.NaN],
    ['typing', Number.NaN],
    ['commentAdded', 2.5],
  ];

  it('exposes the text prom-client would for the same deliveries', async () => {
    const tally = new DeliveryTally();
    const registry = new Registry();
    registry.setDefaultLabels({ instance: 'i1' });
    tally.register(registry);
    for (const [topic, seconds] of deliveries) tally.record(topic, seconds);
    expect(normalised(await registry.metrics())).toEqual(normalised(await reference(deliveries).metrics()));
  });

  it('gives the cluster primary the same JSON to sum', async () => {
    const tally = new DeliveryTally();
    const registry = new Registry();
    registry.setDefaultLabels({ instance: 'i1' });
    tally.register(registry);
    for (const [topic, seconds] of deliveries) tally.record(topic, seconds);
    type Json = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
    const values = (json: Json) =>
      json.map((m) => ({
        name: m.name,
        type: m.type,
        aggregator: m.aggregator,
        values: m.values
          .map((v) => {
            const { sharedLabels, metricName } = v as typeof v & { sharedLabels?: Record<string, string>; metricName?: string };
            return JSON.stringify([metricName ?? m.name, Object.entries({ ...v.labels, ...sharedLabels }).sort(), v.value]);
          })
          .sort(),
      }));
    expect(values(await registry.getMetricsAsJSON())).toEqual(values(await reference(deliveries).getMetricsAsJSON()));
  });
});
