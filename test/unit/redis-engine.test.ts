import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRedisEngine } from '../../src/realtime/redis-engine.js';

/** Collects the process's unhandled rejections for the length of one test. */
function watchUnhandledRejections(): { readonly seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onRejection);
  return { seen, stop: () => process.off('unhandledRejection', onRejection) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('Redis engine while Redis is unreachable', () => {
  let watch: ReturnType<typeof watchUnhandledRejections> | undefined;
  afterEach(() => watch?.stop());

  // Port 1 refuses connections: SUBSCRIBE waits in the offline queue until the engine closes.
  const unreachable = () => new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: null, retryStrategy: () => 1000 });

  it('closes with subscriptions still waiting: their callers see the failure, nothing is left unhandled', async () => {
    watch = watchUnhandledRejections();
    const publisher = unreachable();
    const subscriber = unreachable();
    for (const client of [publisher, subscriber]) client.on('error', () => undefined);
    const engine = createRedisEngine(publisher, subscriber);

    const first = engine.subscribe('herald:test:a', () => undefined);
    const second = engine.subscribe('herald:test:b', () => undefined);
    await engine.close();

    await expect(first).rejects.toThrow(/Connection is closed/);
    await expect(second).rejects.toThrow(/Connection is closed/);
    await settle();
    expect(watch.seen).toEqual([]);
  });
});
