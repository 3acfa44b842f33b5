import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/shared/config.js';
import { EventScopedLoader } from '../../src/shared/event-scoped-loader.js';
import type { HeraldDb } from '../../src/data/db.js';
import { PostAuthors } from '../../src/data/post-authors.js';
import type { Post } from '../../src/generated/prisma/client.js';
import { PubSub } from '../../src/realtime/pubsub.js';
import { createMemoryEngine } from '../../src/realtime/memory-engine.js';
import { createServices } from '../../src/services.js';
import { createStateStores } from '../../src/state-stores.js';
import { silentLogger } from '../helpers/fake-sockets.js';

describe('service wiring', () => {
  afterEach(() => vi.useRealTimers());

  it('creates no timer while it builds; start() does, stop() clears them', async () => {
    vi.useFakeTimers();
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'a-test-secret-that-is-long-enough' });
    // Building touches no database: a client that would throw on any use proves it.
    const db = new Proxy({}, { get: () => { throw new Error('the database was used while wiring'); } }) as unknown as HeraldDb;
    const pubsub = new PubSub(createMemoryEngine(), { capacity: 10, expiryMs: 1000 }, 'wiring:');
    const services = createServices({
      config,
      db,
      sql: () => Promise.reject(new Error('the database was used while wiring')),
      pubsub,
      stores: createStateStores(config, null, () => undefined),
      postAuthors: new PostAuthors(db),
      postEventRows: new EventScopedLoader<Post | null>(() => Promise.resolve(null)),
      logger: silentLogger,
    });
    expect(vi.getTimerCount()).toBe(0);
    services.start();
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await services.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
