import pino from 'pino';
import type { SocketChannel } from '../../src/transport/ws/socket-channel.js';
import { ConnectionRegistry, type ConnectionSettings } from '../../src/modules/connections/connection-registry.js';
import { MemoryConnectionSlots } from '../../src/modules/connections/connection-slots.store.memory.js';
import { MemoryInstanceStats } from '../../src/modules/connections/instance-stats.store.memory.js';
import { PubSub } from '../../src/realtime/pubsub.js';
import { createMemoryEngine } from '../../src/realtime/memory-engine.js';
import type { Viewer } from '../../src/modules/auth/viewer.js';

/** A socket as a protocol adapter sees it, with no network: frames sent and the close asked for are kept. */
export class FakeChannel implements SocketChannel {
  readonly upgrade = { ip: '203.0.113.7', userAgent: 'fake-client/1.0', url: new URL('http://herald.test/graphql') };
  readonly sent: Record<string, unknown>[] = [];
  closedWith: { code: number; reason: string } | null = null;

  constructor(url?: string) {
    if (url) (this.upgrade as { url: URL }).url = new URL(url);
  }

  send(frame: string): undefined {
    this.sent.push(JSON.parse(frame) as Record<string, unknown>);
    return undefined;
  }

  sendParts(head: string, shared: Buffer): undefined {
    return this.send(head + shared.toString('utf8'));
  }

  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
  }

  /** Frames of one type, in order. */
  of(type: string): Record<string, unknown>[] {
    return this.sent.filter((frame) => frame.type === type);
  }
}

export const silentLogger = pino({ level: 'silent' });

export const SETTINGS: ConnectionSettings = {
  instanceId: 'unit',
  heartbeatIntervalMs: 30_000,
  connectionTimeoutMs: 300_000,
  maxConnectionsPerUser: 2,
  maxSubscriptionsPerConnection: 3,
  maxOperationsPerSecond: 50,
};

/** A ConnectionRegistry on in-memory stores and pub/sub, without records. */
export function memoryRegistry(settings: Partial<ConnectionSettings> = {}): { registry: ConnectionRegistry; pubsub: PubSub } {
  const pubsub = new PubSub(createMemoryEngine(), { capacity: 10, expiryMs: 60_000 }, 'unit:');
  const registry = new ConnectionRegistry({
    settings: { ...SETTINGS, ...settings },
    records: null,
    slots: new MemoryConnectionSlots(60_000),
    stats: new MemoryInstanceStats(),
    pubsub,
    logger: silentLogger,
  });
  return { registry, pubsub };
}

export function viewer(id: string, overrides: Partial<Viewer> = {}): Viewer {
  return { id, role: 'READER', sessionId: `session-${id}`, tokenIssuedAt: Date.now(), tokenExpiresAt: Date.now() + 3_600_000, ...overrides };
}

/** Lets pending promise callbacks run (the adapter's init is asynchronous). */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
