import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryTypingStore } from '../../src/modules/comments/typing.store.memory.js';
import type { TypingExpiry } from '../../src/modules/comments/typing.store.js';

const TTL = 5000;

describe('MemoryTypingStore', () => {
  let store: MemoryTypingStore;
  let expired: TypingExpiry[];

  beforeEach(() => {
    vi.useFakeTimers();
    store = new MemoryTypingStore(TTL);
    expired = [];
    store.onExpired((expiry) => expired.push(expiry));
  });

  afterEach(() => {
    store.close();
    vi.useRealTimers();
  });

  it('reports a start once; re-sends while typing only refresh', async () => {
    expect(await store.start('p1', 'u1')).toEqual({ started: true, typingUserIds: ['u1'] });
    expect(await store.start('p1', 'u1')).toEqual({ started: false, typingUserIds: ['u1'] });
    expect(await store.start('p1', 'u2')).toEqual({ started: true, typingUserIds: ['u1', 'u2'] });
  });

  it('expires a typist TTL after the last start, not the first', async () => {
    await store.start('p1', 'u1');
    vi.advanceTimersByTime(TTL - 1000);
    await store.start('p1', 'u1');
    vi.advanceTimersByTime(TTL - 1);
    expect(expired).toEqual([]);
    expect(await store.list('p1')).toEqual(['u1']);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([{ postId: 'p1', userId: 'u1', typingUserIds: [] }]);
    expect(await store.list('p1')).toEqual([]);
  });

  it('reports each expiry once, with who is still typing', async () => {
    await store.start('p1', 'u1');
    vi.advanceTimersByTime(1000);
    await store.start('p1', 'u2');
    vi.advanceTimersByTime(TTL - 1000);
    expect(expired).toEqual([{ postId: 'p1', userId: 'u1', typingUserIds: ['u2'] }]);
    vi.advanceTimersByTime(TTL * 3);
    expect(expired).toEqual([
      { postId: 'p1', userId: 'u1', typingUserIds: ['u2'] },
      { postId: 'p1', userId: 'u2', typingUserIds: [] },
    ]);
  });

  it('stops at once and never expires a stopped typist', async () => {
    await store.start('p1', 'u1');
    expect(await store.stop('p1', 'u1')).toEqual({ stopped: true, typingUserIds: [] });
    expect(await store.stop('p1', 'u1')).toEqual({ stopped: false, typingUserIds: [] });
    vi.advanceTimersByTime(TTL * 2);
    expect(expired).toEqual([]);
  });

  it('keeps posts apart', async () => {
    await store.start('p1', 'u1');
    await store.start('p2', 'u1');
    await store.stop('p1', 'u1');
    expect(await store.list('p1')).toEqual([]);
    expect(await store.list('p2')).toEqual(['u1']);
  });
});
