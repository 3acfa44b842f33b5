import { describe, expect, it } from 'vitest';
import { EventStream } from '../../src/realtime/event-stream.js';
import { mergeStreams } from '../../src/modules/notifications/merge-streams.js';

function stream(onClose?: () => void) {
  return new EventStream<string>({ capacity: 10, overflow: 'fail', expiryMs: 60_000, onClose });
}

describe('mergeStreams', () => {
  it('yields events of every source in arrival order', async () => {
    const a = stream();
    const b = stream();
    const merged = mergeStreams([a, b]);
    a.push('a1');
    b.push('b1');
    a.push('a2');
    const seen = [await merged.next(), await merged.next(), await merged.next()].map((r) => r.value);
    expect(seen.sort()).toEqual(['a1', 'a2', 'b1']);
    b.push('b2');
    expect((await merged.next()).value).toBe('b2');
  });

  it('closes every source when the consumer stops', async () => {
    const closed: string[] = [];
    const merged = mergeStreams([stream(() => closed.push('a')), stream(() => closed.push('b'))]);
    const waiting = merged.next();
    await merged.return!();
    expect(closed.sort()).toEqual(['a', 'b']);
    expect(await waiting).toMatchObject({ done: true });
  });

  it('fails when one source fails, and closes the others', async () => {
    const closed: string[] = [];
    const a = stream(() => closed.push('a'));
    const b = stream(() => closed.push('b'));
    const merged = mergeStreams([a, b]);
    a.fail(new Error('slow consumer'));
    await expect(merged.next()).rejects.toThrow('slow consumer');
    expect(closed.sort()).toEqual(['a', 'b']);
  });

  it('ends when every source has ended', async () => {
    const a = stream();
    const b = stream();
    const merged = mergeStreams([a, b]);
    a.end();
    b.push('last');
    expect((await merged.next()).value).toBe('last');
    b.end();
    expect(await merged.next()).toMatchObject({ done: true });
  });
});
