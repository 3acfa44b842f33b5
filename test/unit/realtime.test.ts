import { afterEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from '../../src/shared/coalescer.js';
import { EventStream, SlowConsumerError } from '../../src/realtime/event-stream.js';
import { topics } from '../../src/realtime/topics.js';
import { newEventIdentity } from '../../src/realtime/event-id.js';
import { parseDuration } from '../../src/shared/duration.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('topics', () => {
  it('scopes channels by id and keeps global ones global', () => {
    expect(topics.commentAdded('p1').channel).toBe('commentAdded:p1');
    expect(topics.notificationCreated('u1')).toEqual({ key: 'notificationCreated', channel: 'notificationCreated:u1' });
    expect(topics.analyticsChanged().channel).toBe('analyticsChanged');
  });

  it('gives events sortable, unique identities', () => {
    const ids = Array.from({ length: 1000 }, () => newEventIdentity(1_700_000_000_000).eventId);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
    expect(newEventIdentity(0).timestamp).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('Coalescer', () => {
  it('turns a burst of 1,000 touches into a leading and a trailing flush', () => {
    vi.useFakeTimers();
    const flushes: number[] = [];
    const coalescer = new Coalescer<string>(200, () => flushes.push(Date.now()));
    for (let i = 0; i < 1000; i++) {
      coalescer.touch('post');
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(500);
    // 1,000 ms of touches at one per 200 ms: about six flushes, the last after the last touch.
    expect(flushes.length).toBeGreaterThanOrEqual(5);
    expect(flushes.length).toBeLessThanOrEqual(7);
    expect(flushes.at(-1)).toBeGreaterThanOrEqual(flushes[0]! + 999);
  });

  it('keeps keys independent', () => {
    vi.useFakeTimers();
    const seen: string[] = [];
    const coalescer = new Coalescer<string>(200, (key) => seen.push(key));
    coalescer.touch('a');
    coalescer.touch('b');
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('EventStream', () => {
  const options = { capacity: 3, expiryMs: 1000 };

  it('delivers in order and ends on return()', async () => {
    const stream = new EventStream<number>({ ...options, overflow: 'fail' });
    stream.push(1);
    stream.push(2);
    expect((await stream.next()).value).toBe(1);
    expect((await stream.next()).value).toBe(2);
    const pending = stream.next();
    await stream.return();
    expect((await pending).done).toBe(true);
  });

  it('keeps only the latest value when a keepLatest consumer falls behind', async () => {
    const drops: string[] = [];
    const stream = new EventStream<number>({ ...options, overflow: 'keepLatest', onDrop: (r) => drops.push(r) });
    for (let i = 1; i <= 10; i++) stream.push(i);
    const values: number[] = [];
    while (stream.size > 0) values.push((await stream.next()).value as number);
    expect(values.at(-1)).toBe(10);
    expect(values.length).toBeLessThanOrEqual(3);
    expect(drops.length).toBeGreaterThan(0);
  });

  it('drops the oldest for dropOldest streams', async () => {
    const stream = new EventStream<number>({ ...options, overflow: 'dropOldest' });
    for (let i = 1; i <= 5; i++) stream.push(i);
    expect([(await stream.next()).value, (await stream.next()).value, (await stream.next()).value]).toEqual([3, 4, 5]);
  });

  it('fails a fail-policy stream instead of growing without bound', async () => {
    const closed = vi.fn();
    const stream = new EventStream<number>({ ...options, overflow: 'fail', onClose: closed });
    for (let i = 1; i <= 4; i++) stream.push(i);
    await expect(stream.next()).rejects.toBeInstanceOf(SlowConsumerError);
    expect(closed).toHaveBeenCalledOnce();
  });

  it('drops events older than the expiry instead of delivering them late', async () => {
    const stream = new EventStream<number>({ ...options, overflow: 'dropOldest' });
    stream.push(1, Date.now() - 5000);
    stream.push(2);
    expect((await stream.next()).value).toBe(2);
  });

  it('fails a stream where a gap would mislead instead of skipping an expired event', async () => {
    const stream = new EventStream<number>({ ...options, overflow: 'fail' });
    stream.push(1, Date.now() - 5000);
    stream.push(2);
    await expect(stream.next()).rejects.toThrow(SlowConsumerError);
  });

  it('never queues filtered events', () => {
    const stream = new EventStream<number>({ ...options, overflow: 'fail', filter: (n) => n % 2 === 0 });
    stream.push(1);
    stream.push(2);
    expect(stream.size).toBe(1);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30', 30_000],
    ['30s', 30_000],
    ['250ms', 250],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['1.5s', 1500],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'abc', '5 minutes', '-1s'])('rejects %j', (text) => expect(parseDuration(text)).toBeNull());
});
