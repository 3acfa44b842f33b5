import { describe, expect, it } from 'vitest';
import { EventScopedLoader } from '../../src/shared/event-scoped-loader.js';

describe('EventScopedLoader', () => {
  it('answers a primed row as a plain value, without loading', () => {
    let loads = 0;
    const loader = new EventScopedLoader<string>(async () => `loaded ${++loads}`);
    loader.prime('p1:2', 'written');
    expect(loader.get('p1:2', 'p1')).toBe('written');
    expect(loads).toBe(0);
  });

  it('loads once per event, shares the load in flight, then answers the loaded row as a plain value', async () => {
    let loads = 0;
    const loader = new EventScopedLoader<string>(async (id) => `${id} v${++loads}`);
    const first = loader.get('p1:3', 'p1');
    const second = loader.get('p1:3', 'p1');
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBe(first);
    expect(await first).toBe('p1 v1');
    expect(loader.get('p1:3', 'p1')).toBe('p1 v1');
    expect(loads).toBe(1);
    // Another event of the same row is loaded afresh.
    expect(await loader.get('p1:4', 'p1')).toBe('p1 v2');
  });

  it('keeps a failed load a rejection for every subscriber of that event', async () => {
    const loader = new EventScopedLoader<string>(() => Promise.reject(new Error('database away')));
    await expect(loader.get('p1:5', 'p1')).rejects.toThrow('database away');
    await expect(loader.get('p1:5', 'p1')).rejects.toThrow('database away');
  });

  it('forgets an event after its time to live', async () => {
    let loads = 0;
    const loader = new EventScopedLoader<number>(async () => ++loads, 20);
    expect(await loader.get('p1:6', 'p1')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await loader.get('p1:6', 'p1')).toBe(2);
  });
});
