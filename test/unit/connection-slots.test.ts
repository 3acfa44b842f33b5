import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryConnectionSlots } from '../../src/modules/connections/connection-slots.store.memory.js';
import { OperationRate } from '../../src/modules/connections/operation-limits.js';
import { mergeSnapshots } from '../../src/modules/connections/instance-stats.js';

describe('connection slots', () => {
  afterEach(() => vi.useRealTimers());

  it('refuses a slot above the cap and frees one on release', async () => {
    const slots = new MemoryConnectionSlots(60_000);
    for (let i = 0; i < 3; i++) expect(await slots.acquire('u', `c${i}`, 3)).toBe(true);
    expect(await slots.acquire('u', 'c3', 3)).toBe(false);
    expect(await slots.acquire('other', 'c9', 3)).toBe(true);
    await slots.release('u', 'c0');
    expect(await slots.acquire('u', 'c3', 3)).toBe(true);
  });

  it("frees a dead instance's slots once they are not refreshed within the TTL", async () => {
    vi.useFakeTimers();
    const slots = new MemoryConnectionSlots(1_000);
    expect(await slots.acquire('u', 'live', 2)).toBe(true);
    expect(await slots.acquire('u', 'crashed', 2)).toBe(true);
    vi.advanceTimersByTime(600);
    await slots.refresh([{ userId: 'u', connectionId: 'live' }]);
    vi.advanceTimersByTime(600);
    expect(await slots.acquire('u', 'new', 2)).toBe(true);
    expect(await slots.acquire('u', 'another', 2)).toBe(false);
  });
});

describe('operation rate', () => {
  it('allows a burst of one second of operations, then tells how long to wait', () => {
    const rate = new OperationRate(5, 0);
    for (let i = 0; i < 5; i++) expect(rate.take(0)).toBe(0);
    expect(rate.take(0)).toBe(200);
    expect(rate.take(200)).toBe(0);
  });
});

describe('connection stats', () => {
  it('sums instances, prefers the live snapshot of this instance, and ranks users', () => {
    const at = new Date(0).toISOString();
    const stats = mergeSnapshots(
      [
        { instanceId: 'a', connections: 99, users: {}, subscriptions: {}, updatedAt: at },
        { instanceId: 'b', connections: 2, users: { u1: 1, u2: 1 }, subscriptions: { notifications: 2 }, updatedAt: at },
      ],
      { instanceId: 'a', connections: 3, users: { u1: 3 }, subscriptions: { notifications: 1, typing: 1 }, updatedAt: at },
      1,
    );
    expect(stats.totalConnections).toBe(5);
    expect(stats.topUsers).toEqual([{ userId: 'u1', connections: 4 }]);
    expect(stats.subscriptions).toEqual([
      { field: 'notifications', count: 3 },
      { field: 'typing', count: 1 },
    ]);
    expect(stats.totalSubscriptions).toBe(4);
  });
});
