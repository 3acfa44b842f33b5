import { describe, expect, it, vi } from 'vitest';
import { WriteBatcher } from '../../src/shared/write-batcher.js';

describe('WriteBatcher', () => {
  it('writes what was added in one turn as one call, capped per batch, and settles each caller with it', async () => {
    const calls: number[][] = [];
    const batcher = new WriteBatcher<number>(async (items) => void calls.push(items), 3);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    await batcher.add(6);
    expect(calls).toHaveLength(3);
  });

  it('hands each caller its own result when the batch answers one per item, in order', async () => {
    const batcher = new WriteBatcher<number, string>(async (items) => items.map((n) => `#${n}`));
    await expect(Promise.all([3, 1, 2].map((n) => batcher.add(n)))).resolves.toEqual(['#3', '#1', '#2']);
  });

  it('rejects every caller of a failed batch, and later batches still run', async () => {
    let fail = true;
    const batcher = new WriteBatcher<string>(async () => {
      if (fail) throw new Error('insert failed');
    });
    const results = await Promise.allSettled([batcher.add('a'), batcher.add('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(batcher.add('c')).resolves.toBeUndefined();
  });
  it('with a window, writes what was added over it as one call, and flush() writes it early', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const calls: number[][] = [];
      const batcher = new WriteBatcher<number>(async (items) => void calls.push(items), 500, 30);
      const first = [batcher.add(1)];
      await new Promise((resolve) => setImmediate(resolve));
      first.push(batcher.add(2));
      expect(calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(30);
      await Promise.all(first);
      expect(calls).toEqual([[1, 2]]);
      const late = batcher.add(3);
      await batcher.flush();
      await late;
      expect(calls).toEqual([[1, 2], [3]]);
    } finally {
      vi.useRealTimers();
    }
  });
});
