import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Client, Sink, SubscribePayload } from 'graphql-ws';
import { subscribeResumable } from '../../src/shared/resumable-subscription.js';

/** A graphql-ws client whose subscriptions the test drives: what each subscribe sent, and its sink. */
function fakeClient() {
  const calls: { variables: Record<string, unknown>; sink: Sink }[] = [];
  const client = {
    subscribe(payload: SubscribePayload, sink: Sink) {
      // graphql-ws sends the payload object as it is at each (re)send: keep what it holds now.
      calls.push({ variables: { ...(payload.variables ?? {}) }, sink });
      return () => undefined;
    },
  } as unknown as Client;
  return { client, calls };
}

describe('subscribeResumable', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps the cursor at the last eventId and, after SERVICE_UNAVAILABLE, subscribes again from it', () => {
    vi.useFakeTimers();
    const { client, calls } = fakeClient();
    const received: unknown[] = [];
    const errors: unknown[] = [];
    subscribeResumable(client, { query: 'subscription($after: String) { postUpdated(postId: "p", after: $after) { eventId } }', variables: {} }, {
      next: (r) => received.push(r),
      error: (e) => errors.push(e),
      complete: () => undefined,
    });
    calls[0]!.sink.next({ data: { postUpdated: { eventId: 'e1' } } });
    // The event after it failed to load on the server: not handed on, the subscription starts again from e1.
    calls[0]!.sink.next({ errors: [{ message: 'The database is temporarily unavailable', extensions: { code: 'SERVICE_UNAVAILABLE' } }] } as never);
    expect(calls).toHaveLength(1);
    vi.advanceTimersByTime(700);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.variables.after).toBe('e1');
    calls[1]!.sink.error([{ message: 'x', extensions: { code: 'SERVICE_UNAVAILABLE' } }]);
    vi.advanceTimersByTime(1300);
    expect(calls[2]!.variables.after).toBe('e1');
    // A cursor the server cannot honour is the app's to handle.
    calls[2]!.sink.error([{ message: 'Cannot resume', extensions: { code: 'RESUME_UNAVAILABLE', reason: 'CURSOR_EXPIRED' } }]);
    vi.advanceTimersByTime(60_000);
    expect(calls).toHaveLength(3);
    expect(received).toHaveLength(1);
    expect(errors).toEqual([[{ message: 'Cannot resume', extensions: { code: 'RESUME_UNAVAILABLE', reason: 'CURSOR_EXPIRED' } }]]);
  });
});
