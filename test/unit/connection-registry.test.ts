import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '../../src/modules/connections/connection.js';
import type { ConnectionRegistry } from '../../src/modules/connections/connection-registry.js';
import { topics } from '../../src/realtime/topics.js';
import { memoryRegistry, settle, viewer } from '../helpers/fake-sockets.js';

/** A connection handle whose closes are recorded instead of reaching a socket. */
async function open(registry: ConnectionRegistry, who: ReturnType<typeof viewer> | null) {
  const closes: { code: number; reason: string }[] = [];
  const opened = await registry.open({ protocol: 'graphql-transport-ws', origin: { ip: '203.0.113.1', userAgent: null, clientId: null }, viewer: who, link: { close: (code, reason) => closes.push({ code, reason }) } });
  if (!('id' in opened)) throw new Error(`refused: ${opened.code}`);
  return { connection: opened as Connection, closes };
}

describe('ConnectionRegistry (one owner of every connection)', () => {
  afterEach(() => vi.useRealTimers());

  it('registers an operation id once at a time, frees it when it ends, and ends every operation on close', async () => {
    const { registry } = memoryRegistry();
    const { connection } = await open(registry, viewer('alice'));
    const first = registry.begin(connection, 'x');
    expect('id' in first).toBe(true);
    expect(registry.begin(connection, 'x')).toEqual({ duplicate: true });
    const stopped: string[] = [];
    if (!('id' in first)) throw new Error('not begun');
    first.onEnd(() => stopped.push('x'));
    first.end();
    expect(stopped).toEqual(['x']);
    const again = registry.begin(connection, 'x');
    if (!('id' in again)) throw new Error('not begun again');
    again.onEnd(() => stopped.push('x again'));
    await registry.closed(connection, 1000, '');
    expect(stopped).toEqual(['x', 'x again']);
    expect(again.isEnded).toBe(true);
    expect(registry.size).toBe(0);
  });

  it('refuses a subscription above the per-connection limit and counts only running ones', async () => {
    const { registry } = memoryRegistry({ maxSubscriptionsPerConnection: 2 });
    const { connection } = await open(registry, viewer('bob'));
    const begin = (id: string) => {
      const operation = registry.begin(connection, id);
      if (!('id' in operation)) throw new Error('not begun');
      return operation;
    };
    const [a, b, c] = [begin('a'), begin('b'), begin('c')];
    expect(registry.startSubscription(connection, a, 'postUpdated')).toBeNull();
    expect(registry.startSubscription(connection, b, 'postUpdated')).toBeNull();
    expect(registry.startSubscription(connection, c, 'postUpdated')).toMatchObject({ code: 'RATE_LIMITED', extensions: { limit: 'subscriptionsPerConnection' } });
    a.end();
    expect(registry.startSubscription(connection, c, 'postUpdated')).toBeNull();
    expect((await registry.connectionStats()).subscriptions).toEqual([{ field: 'postUpdated', count: 2 }]);
  });

  it('refuses operations above the per-connection rate with RATE_LIMITED and retryAfterMs', async () => {
    const { registry } = memoryRegistry({ maxOperationsPerSecond: 3 });
    const { connection } = await open(registry, null);
    for (let i = 0; i < 3; i++) expect('id' in registry.begin(connection, `q${i}`)).toBe(true);
    expect(registry.begin(connection, 'q3')).toMatchObject({ code: 'RATE_LIMITED', extensions: { limit: 'operationsPerSecond', retryAfterMs: expect.any(Number) } });
  });

  it('lets an anonymous connection adopt one user (taking a slot of their cap), and refuses another user', async () => {
    const { registry } = memoryRegistry({ maxConnectionsPerUser: 1 });
    const { connection } = await open(registry, null);
    expect(await registry.adopt(connection, viewer('carol'))).toBeNull();
    expect(connection.viewer?.id).toBe('carol');
    expect(await registry.adopt(connection, viewer('carol'))).toBeNull();
    expect(await registry.adopt(connection, viewer('mallory'))).toMatchObject({ code: 'FORBIDDEN' });
    // carol's one slot is taken by the adopted socket: her own socket is refused.
    expect(await registry.open({ protocol: 'graphql-transport-ws', origin: { ip: null, userAgent: null, clientId: null }, viewer: viewer('carol'), link: { close: () => undefined } })).toMatchObject({ code: 4008 });
    const other = await open(registry, null);
    expect(await registry.adopt(other.connection, viewer('carol'))).toMatchObject({ code: 4008 });
    await registry.closed(connection, 1000, '');
    expect(await registry.adopt(other.connection, viewer('carol'))).toBeNull();
  });

  it('closes a connection whose token expired with 4403 and a silent one with 4410, from one sweep', async () => {
    vi.useFakeTimers();
    const { registry } = memoryRegistry({ connectionTimeoutMs: 10_000 });
    registry.start();
    const expiring = await open(registry, viewer('dan', { tokenExpiresAt: Date.now() + 1_000 }));
    const silent = await open(registry, viewer('erin'));
    const talking = await open(registry, viewer('frank'));
    vi.advanceTimersByTime(1_500);
    expect(expiring.closes).toEqual([{ code: 4403, reason: 'Access token expired' }]);
    for (let i = 0; i < 20; i++) {
      talking.connection.touch();
      vi.advanceTimersByTime(500);
    }
    expect(silent.closes).toEqual([{ code: 4410, reason: 'Idle timeout' }]);
    expect(talking.closes).toEqual([]);
    await registry.stop();
  });

  it('closes the connections of a session revoked on any instance with 4403', async () => {
    const { registry, pubsub } = memoryRegistry();
    registry.start();
    await settle();
    const mine = await open(registry, viewer('gina', { sessionId: 'revoked' }));
    const other = await open(registry, viewer('gina', { sessionId: 'kept' }));
    await pubsub.publish(topics.sessionRevoked(), { sessionId: 'revoked', userId: 'gina' });
    await settle();
    expect(mine.closes).toEqual([{ code: 4403, reason: 'Session revoked' }]);
    expect(other.closes).toEqual([]);
    await registry.stop();
  });
});
