import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DurableFeed, type EventLogReader, type LoggedEvent } from '../../src/realtime/durable-feed.js';
import { durableEventId, ResumeError } from '../../src/realtime/event-cursor.js';
import { createMemoryEngine } from '../../src/realtime/memory-engine.js';
import type { PubSubEngine } from '../../src/realtime/engine.js';
import { PubSub } from '../../src/realtime/pubsub.js';
import { topics } from '../../src/realtime/topics.js';

const EPOCH = 'abcdef01';

/** An event log in memory whose reads resolve on a later tick, as a database's do. */
class MemoryLog implements EventLogReader {
  readonly rows: LoggedEvent[] = [];
  prunedThrough = 0n;

  append(channel: string, n = 1): void {
    for (let i = 0; i < n; i++) {
      const position = BigInt(this.rows.length + 1);
      this.rows.push({ position, channel, payload: { n: Number(position) }, createdAt: new Date(0).toISOString() });
    }
  }

  private later<T>(value: () => T): Promise<T> {
    return new Promise((resolve) => setTimeout(() => resolve(value()), 1));
  }

  head() {
    return this.later(() => ({ position: BigInt(this.rows.length), epoch: EPOCH }));
  }
  after(position: bigint, limit: number) {
    return this.later(() => this.rows.filter((r) => r.position > position).slice(0, limit));
  }
  replay(channels: readonly string[], after: bigint, through: bigint, limit: number) {
    return this.later(() => ({
      events: this.rows.filter((r) => channels.includes(r.channel) && r.position > after && r.position <= through).slice(0, limit),
      prunedThrough: this.prunedThrough,
    }));
  }
  locate(position: bigint) {
    return this.later(() => ({ known: this.rows.some((r) => r.position === position), prunedThrough: this.prunedThrough }));
  }
}

const quiet = pino({ level: 'silent' });
const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
};

describe('DurableFeed', () => {
  it('replays after a cursor and continues live with nothing missed or repeated at the seam, while writes keep coming', async () => {
    const log = new MemoryLog();
    log.append('a', 3);
    const feed = new DurableFeed(log, quiet, 60_000);
    await feed.start();
    // More than a replay page (200) after the cursor, interleaved with another channel.
    for (let i = 0; i < 150; i++) {
      log.append('a');
      log.append('b');
    }
    const seen: number[] = [];
    const room = () => Promise.resolve();
    const unsubscribe = await feed.subscribe(['a'], (_channel, event) => seen.push((event as { n: number }).n), { after: durableEventId(2n, EPOCH), room, failed: (e) => { throw e; } });
    // Writes and doorbells while the replay is under way.
    for (let i = 0; i < 50; i++) {
      log.append('a');
      feed.poke();
      await new Promise((r) => setTimeout(r, 0));
    }
    const expected = log.rows.filter((r) => r.channel === 'a' && r.position > 2n).map((r) => Number(r.position));
    await until(() => {
      feed.poke();
      return seen.length >= expected.length;
    });
    expect(seen).toEqual(expected);
    unsubscribe();
    feed.stop();
  });

  it('hands one event object to every local subscriber of a channel, replaying or live', async () => {
    const log = new MemoryLog();
    log.append('a', 2);
    const feed = new DurableFeed(log, quiet, 60_000);
    await feed.start();
    log.append('a');
    const got: object[][] = [[], []];
    const flow = { after: durableEventId(1n, EPOCH), room: () => Promise.resolve(), failed: () => undefined };
    await feed.subscribe(['a'], (_c, e) => got[0]!.push(e), flow);
    await feed.subscribe(['a'], (_c, e) => got[1]!.push(e), flow);
    feed.poke();
    await until(() => got[0]!.length === 2 && got[1]!.length === 2);
    expect(got[0]![1]).toBe(got[1]![1]);
    feed.stop();
  });

  it('refuses a malformed, foreign, unknown or expired cursor', async () => {
    const log = new MemoryLog();
    log.append('a', 5);
    const feed = new DurableFeed(log, quiet, 60_000);
    const flow = (after: string) => ({ after, room: () => Promise.resolve(), failed: () => undefined });
    const reason = async (after: string) => feed.subscribe(['a'], () => undefined, flow(after)).then(() => 'none', (e: ResumeError) => e.reason);
    expect(await reason('nope')).toBe('MALFORMED_CURSOR');
    expect(await reason(durableEventId(2n, '00000000'))).toBe('UNKNOWN_CURSOR');
    expect(await reason(durableEventId(99n, EPOCH))).toBe('UNKNOWN_CURSOR');
    log.prunedThrough = 3n;
    expect(await reason(durableEventId(2n, EPOCH))).toBe('CURSOR_EXPIRED');
    expect(await reason(durableEventId(4n, EPOCH))).toBe('none');
    feed.stop();
  });
});

/** Instances sharing one event log and one bus (Redis's stand-in); `ringsLost` drops every ring in transit. */
function instances(count: number) {
  const log = new MemoryLog();
  const bus = createMemoryEngine();
  const transit = { ringsLost: false };
  const engine: PubSubEngine = { ...bus, publish: (channel, message) => (transit.ringsLost ? Promise.resolve() : bus.publish(channel, message)) };
  const made = Array.from({ length: count }, () => {
    let reads = 0;
    const counted: EventLogReader = { head: () => log.head(), replay: (...a) => log.replay(...a), locate: (p) => log.locate(p), after: (p, l) => (reads++, log.after(p, l)) };
    const feed = new DurableFeed(counted, quiet, 60_000);
    const pubsub = new PubSub(engine, { capacity: 100, expiryMs: 60_000 }, 'test:', {}, feed);
    return { pubsub, reads: () => reads };
  });
  return { log, transit, instances: made };
}

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms))]);

describe('doorbells', () => {
  const topic = topics.postUpdated('p1');

  it("hands a write to the writer's own subscribers without waiting for its ring to come back", async () => {
    const { log, transit, instances: [writer] } = instances(1);
    await writer!.pubsub.start();
    const stream = await writer!.pubsub.subscribe(topic);
    transit.ringsLost = true;
    log.append(topic.channel);
    writer!.pubsub.appended(topic);
    // The backstop timer is a minute away: only a read at the write itself delivers this in time.
    const step = await within(stream.next(), 1000);
    expect(step.value).toMatchObject({ n: 1 });
    stream.end();
  });

  it('reads once per write on the writer (its returning ring ignored), and other instances read on its ring', async () => {
    const { log, instances: [writer, other] } = instances(2);
    for (const i of [writer!, other!]) await i.pubsub.start();
    const mine = await writer!.pubsub.subscribe(topic);
    const theirs = await other!.pubsub.subscribe(topic);
    const before = [writer!.reads(), other!.reads()];
    log.append(topic.channel);
    writer!.pubsub.appended(topic);
    const [a, b] = await within(Promise.all([mine.next(), theirs.next()]), 1000);
    expect(a.value).toMatchObject({ n: 1 });
    expect(b.value).toMatchObject({ n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([writer!.reads() - before[0]!, other!.reads() - before[1]!]).toEqual([1, 1]);
    mine.end();
    theirs.end();
  });
});
