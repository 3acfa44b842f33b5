import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIVE_WINDOW_MS, LiveVisitorTracker } from '../../src/modules/analytics/live-visitors.js';
import { MemoryVisitorStore } from '../../src/modules/analytics/visitor.store.memory.js';
import { DashboardFeed } from '../../src/modules/analytics/dashboard-feed.js';
import { newEventIdentity } from '../../src/realtime/event-id.js';

const MINUTE = 60_000;

describe('LiveVisitorTracker (in memory)', () => {
  let tracker: LiveVisitorTracker;

  beforeEach(() => {
    // setImmediate stays real: marks of one turn are written together on the next.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    tracker = new LiveVisitorTracker(new MemoryVisitorStore(LIVE_WINDOW_MS));
  });

  afterEach(() => {
    tracker.stop();
    vi.useRealTimers();
  });

  it('counts each visitor once however often it is seen', async () => {
    await tracker.seen('anon:a');
    await tracker.seen('anon:a');
    await tracker.seen('user:b');
    expect(await tracker.count()).toBe(2);
  });

  it('forgets a visitor five minutes after it was last seen', async () => {
    await tracker.seen('anon:a');
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    await tracker.seen('anon:b');
    await vi.advanceTimersByTimeAsync(2 * MINUTE + 1);
    expect(await tracker.count()).toBe(1);
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    expect(await tracker.count()).toBe(0);
  });

  /** A connection mark settles once its window (50 ms) has been written. */
  const marked = async (mark: Promise<void>) => {
    await vi.advanceTimersByTimeAsync(50);
    await mark;
  };

  it('keeps a connected visitor live while the connection stays open, then lets it age out', async () => {
    await marked(tracker.connected('user:c'));
    await vi.advanceTimersByTimeAsync(30 * MINUTE);
    expect(await tracker.count()).toBe(1);
    await marked(tracker.disconnected('user:c'));
    await vi.advanceTimersByTimeAsync(4 * MINUTE);
    expect(await tracker.count()).toBe(1);
    await vi.advanceTimersByTimeAsync(MINUTE + 1);
    expect(await tracker.count()).toBe(0);
  });

  it('keeps a visitor with two connections live until the last one closes', async () => {
    await marked(tracker.connected('user:d'));
    await marked(tracker.connected('user:d'));
    await marked(tracker.disconnected('user:d'));
    await vi.advanceTimersByTimeAsync(20 * MINUTE);
    expect(await tracker.count()).toBe(1);
  });
});

describe('LiveVisitorTracker, connection marks', () => {
  /** A store that counts its writes. */
  function countingStore() {
    const store = new MemoryVisitorStore(LIVE_WINDOW_MS);
    const writes: string[][] = [];
    const touch = store.touch.bind(store);
    store.touch = (ids, at) => (writes.push([...ids]), touch(ids, at));
    return { store, writes };
  }

  it('writes the marks of connections opened over its window, one per turn, as one write', async () => {
    // The window's clock is faked (a loaded machine cannot split it); turns stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const { store, writes } = countingStore();
      const tracker = new LiveVisitorTracker(store);
      const marks: Promise<void>[] = [];
      for (const id of ['user:a', 'user:b', 'user:c']) {
        marks.push(tracker.connected(id));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(writes).toEqual([]);
      await vi.advanceTimersByTimeAsync(50);
      await Promise.all(marks);
      expect(writes).toEqual([['user:a', 'user:b', 'user:c']]);
      tracker.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts a connection opened here at once, without waiting for the window', async () => {
    const { store, writes } = countingStore();
    const tracker = new LiveVisitorTracker(store, { connectionMarkWindowMs: 60_000 });
    void tracker.connected('user:a');
    expect(await tracker.count()).toBe(1);
    expect(writes).toEqual([['user:a']]);
    tracker.stop();
  });
});

describe('DashboardFeed', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function makeFeed() {
    let value = 0;
    let computations = 0;
    let onChange: () => void = () => undefined;
    const feed = new DashboardFeed({
      compute: () => {
        computations++;
        return Promise.resolve({ value, ...newEventIdentity() });
      },
      listen: (handler) => {
        onChange = handler;
        return Promise.resolve(() => undefined);
      },
      minIntervalMs: 1000,
      maxIntervalMs: 30_000,
      onError: (error) => {
        throw error;
      },
    });
    return {
      feed,
      change: (next: number) => {
        value = next;
        onChange();
      },
      computations: () => computations,
    };
  }

  it('shares one computation per broadcast between subscribers and coalesces a burst into the final value', async () => {
    const { feed, change, computations } = makeFeed();
    const a = await feed.subscribe();
    const b = await feed.subscribe();
    expect((await a.next()).value.value).toBe(0);
    expect((await b.next()).value.value).toBe(0);
    const before = computations();
    for (let i = 1; i <= 50; i++) change(i);
    await vi.advanceTimersByTimeAsync(1000);
    // One leading broadcast (value 1) and one trailing broadcast carrying the last value.
    expect(computations() - before).toBe(2);
    const lastA = await a.next();
    const lastB = await b.next();
    expect(lastA.value.value).toBe(50);
    expect(lastB.value).toBe(lastA.value);
    feed.stop();
  });

  it('sends a heartbeat snapshot after the max interval without changes', async () => {
    const { feed } = makeFeed();
    const a = await feed.subscribe();
    const first = (await a.next()).value;
    await vi.advanceTimersByTimeAsync(30_000);
    const beat = (await a.next()).value;
    expect(beat.eventId > first.eventId).toBe(true);
    feed.stop();
  });
});
