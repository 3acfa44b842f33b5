import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DurableFeed, type EventLogReader, type LoggedEvent } from '../../src/realtime/durable-feed.js';
import { durableEventId, ResumeError } from '../../src/realtime/event-cursor.js';

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
