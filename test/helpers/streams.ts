import type { TopicKey } from '../../src/realtime/topics.js';
import type { TestApp } from './test-app.js';

/**
 * Waits (bounded) until `app` holds at least `count` live streams on `topic`: a subscription is live
 * once the server counts it, so an event written after this returns must reach it. No sleeps.
 */
export async function waitForStreams(app: TestApp, topic: TopicKey, count = 1, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.app.runtime.pubsub.openStreams(topic) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`fewer than ${count} ${topic} streams after ${timeoutMs} ms`);
}

/** Waits (bounded) until `app` holds no live streams on `topic`, so the next `waitForStreams` counts only new ones. */
export async function waitForStreamsClosed(app: TestApp, topic: TopicKey, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.app.runtime.pubsub.openStreams(topic) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${topic} streams still open after ${timeoutMs} ms`);
}

/** Resolves with the first value `source` yields that satisfies `predicate`, or rejects after `timeoutMs`. */
export function firstMatching<T>(subscribe: (next: (value: T) => void, fail: (error: unknown) => void) => () => void, predicate: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unsubscribe: (() => void) | null = null;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      unsubscribe?.();
    };
    const timer = setTimeout(() => settle(() => reject(new Error(`no matching event within ${timeoutMs} ms`))), timeoutMs);
    unsubscribe = subscribe(
      (value) => {
        if (predicate(value)) settle(() => resolve(value));
      },
      (error) => settle(() => reject(error instanceof Error ? error : new Error(JSON.stringify(error)))),
    );
    if (settled) unsubscribe();
  });
}
