import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { backend, testRedisUrl } from '../helpers/backends.js';
import { backendAvailable } from '../helpers/test-app.js';
import { connectRedis, type RedisClient } from '../../src/realtime/redis-connection.js';
import { createRedisEngine } from '../../src/realtime/redis-engine.js';
import type { PubSubEngine } from '../../src/realtime/engine.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ioredis writes a SUBSCRIBE issued while the connection is still in its handshake at once; its ready
// check (INFO) then fails in subscriber mode, it reconnects, and the channels subscribed in that window
// were never resubscribed (ioredis#2037). An instance's start-up listeners (revoked sessions, post
// visibility) subscribe exactly then, and went deaf.
describe.runIf(backendAvailable() && backend === 'services')('Redis subscriber connection at start-up', () => {
  const opened: RedisClient[] = [];
  let engine: PubSubEngine | null = null;
  afterEach(async () => {
    await engine?.close();
    engine = null;
    await Promise.all(opened.splice(0).map((c) => c.quit().catch(() => undefined)));
  });

  it('hears channels subscribed while the connection is still opening, on the connection it opened', async () => {
    const logged: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
    const target = { url: testRedisUrl, clusterNodes: undefined };
    const publisher = connectRedis(target, 'publisher', logger);
    const subscriber = connectRedis(target, 'subscriber', logger);
    engine = createRedisEngine(publisher, subscriber);
    const channel = `herald-test-startup-${randomBytes(4).toString('hex')}`;
    const heard: unknown[] = [];
    // Connected, handshake under way: where an instance's start-up (migrations done, services starting) lands.
    await once(subscriber, 'connect');
    expect(subscriber.status).toBe('connect');
    await engine.subscribe(channel, (message) => heard.push(message));
    await sleep(500); // past the handshake, and past any reconnect it would cause

    const observer = new Redis(testRedisUrl);
    opened.push(observer);
    expect(await observer.publish(channel, JSON.stringify({ n: 1 }))).toBe(1);
    await engine.publish(channel, { n: 2 });
    await sleep(200);
    expect(heard).toEqual([{ n: 1 }, { n: 2 }]);
    expect(logged.filter((line) => line.includes('redis connection error'))).toEqual([]);
  });
});
