import { afterEach, describe, expect, it, vi } from 'vitest';
import { graphqlTransportWs } from '../../src/transport/ws/graphql-transport-ws.js';
import type { OperationPayload, OperationSink, Operations } from '../../src/transport/ws/operation-runner.js';
import { DeliveredResult } from '../../src/graphql/delivery/delivered-result.js';
import type { Connection } from '../../src/modules/connections/connection.js';
import { TokenError } from '../../src/modules/auth/tokens.js';
import { FakeChannel, memoryRegistry, settle, silentLogger, viewer } from '../helpers/fake-sockets.js';

/** Records what the adapter asked of the runner, and lets a test answer through the sink. */
class FakeOperations implements Operations {
  readonly started: { connection: Connection; id: string; payload: OperationPayload; sink: OperationSink }[] = [];
  readonly stopped: string[] = [];
  private readonly running = new Set<string>();

  start(connection: Connection, id: string, payload: OperationPayload, sink: OperationSink): 'duplicate' | undefined {
    if (this.running.has(id)) return 'duplicate';
    this.running.add(id);
    this.started.push({ connection, id, payload, sink });
    return undefined;
  }

  stop(_connection: Connection, id: string): void {
    this.running.delete(id);
    this.stopped.push(id);
  }
}

function session(options: { authenticate?: (token: string) => Promise<ReturnType<typeof viewer>>; initTimeoutMs?: number; maxConnectionsPerUser?: number } = {}) {
  const { registry } = memoryRegistry({ maxConnectionsPerUser: options.maxConnectionsPerUser ?? 2 });
  const runner = new FakeOperations();
  const adapter = graphqlTransportWs({
    runner,
    connections: registry,
    authenticate: options.authenticate ?? (async (token) => viewer(token)),
    initTimeoutMs: options.initTimeoutMs ?? 0,
    instanceId: 'unit',
    logger: silentLogger,
  });
  const channel = new FakeChannel();
  return { channel, protocol: adapter(channel), runner, registry };
}

const send = (s: ReturnType<typeof session>, frame: unknown) => s.protocol.received(JSON.stringify(frame));

describe('the graphql-transport-ws adapter (fake sockets)', () => {
  afterEach(() => vi.useRealTimers());

  it('acknowledges connection_init with the connection id, and registers the connection', async () => {
    const s = session();
    send(s, { type: 'connection_init', payload: { authorization: 'Bearer alice' } });
    await settle();
    const [ack] = s.channel.of('connection_ack');
    expect(ack?.payload).toMatchObject({ instanceId: 'unit', connectionId: expect.any(String) });
    expect(s.registry.size).toBe(1);
    s.protocol.closed(1000, '');
    await settle();
    expect(s.registry.size).toBe(0);
  });

  it('closes with 4401 for a subscribe before the acknowledgement, 4429 for a second init, 4400 for garbage', async () => {
    const early = session();
    send(early, { id: '1', type: 'subscribe', payload: { query: '{ __typename }' } });
    expect(early.channel.closedWith?.code).toBe(4401);

    const twice = session();
    send(twice, { type: 'connection_init' });
    send(twice, { type: 'connection_init' });
    expect(twice.channel.closedWith?.code).toBe(4429);

    const garbage = session();
    garbage.protocol.received('{not json');
    expect(garbage.channel.closedWith?.code).toBe(4400);

    const serverMessage = session();
    send(serverMessage, { type: 'connection_init' });
    await settle();
    send(serverMessage, { id: '1', type: 'next', payload: {} });
    expect(serverMessage.channel.closedWith).toMatchObject({ code: 4400, reason: expect.stringMatching(/Unexpected message/) });
  });

  it('answers ping with pong (echoing the payload) before and after init', async () => {
    const s = session();
    send(s, { type: 'ping', payload: { at: 1 } });
    expect(s.channel.of('pong')).toEqual([{ type: 'pong', payload: { at: 1 } }]);
  });

  it('closes with 4408 when connection_init does not come in time', () => {
    vi.useFakeTimers();
    const s = session({ initTimeoutMs: 1000 });
    vi.advanceTimersByTime(999);
    expect(s.channel.closedWith).toBeNull();
    vi.advanceTimersByTime(1);
    expect(s.channel.closedWith?.code).toBe(4408);
  });

  it('closes with 4403 for a bad token and with 4008 above the per-user cap', async () => {
    const bad = session({
      authenticate: async () => {
        throw new TokenError('INVALID', 'Invalid access token');
      },
    });
    send(bad, { type: 'connection_init', payload: { authorization: 'Bearer forged' } });
    await settle();
    expect(bad.channel.closedWith).toEqual({ code: 4403, reason: 'Invalid access token' });
    expect(bad.registry.size).toBe(0);

    const { registry } = memoryRegistry({ maxConnectionsPerUser: 1 });
    const adapter = graphqlTransportWs({ runner: new FakeOperations(), connections: registry, authenticate: async () => viewer('bob'), initTimeoutMs: 0, instanceId: 'unit', logger: silentLogger });
    const first = new FakeChannel();
    const second = new FakeChannel();
    adapter(first).received(JSON.stringify({ type: 'connection_init', payload: { token: 'bob' } }));
    await settle();
    adapter(second).received(JSON.stringify({ type: 'connection_init', payload: { token: 'bob' } }));
    await settle();
    expect(first.closedWith).toBeNull();
    expect(second.closedWith?.code).toBe(4008);
  });

  it('hands subscribe to the runner, frames its results, and closes with 4409 for a busy id', async () => {
    const s = session();
    send(s, { type: 'connection_init', payload: { token: 'carol' } });
    await settle();
    send(s, { id: 'a', type: 'subscribe', payload: { query: 'subscription { health { status } }' } });
    const [started] = s.runner.started;
    expect(started?.id).toBe('a');
    expect(started?.connection.viewer?.id).toBe('carol');
    started!.sink.next(new DeliveredResult({ data: { health: { status: 'OK' } } }));
    started!.sink.complete();
    expect(s.channel.of('next')).toEqual([{ id: 'a', type: 'next', payload: { data: { health: { status: 'OK' } } } }]);
    expect(s.channel.of('complete')).toEqual([{ id: 'a', type: 'complete' }]);

    send(s, { id: 'b', type: 'subscribe', payload: { query: '{ __typename }' } });
    send(s, { id: 'b', type: 'subscribe', payload: { query: '{ __typename }' } });
    expect(s.channel.closedWith).toEqual({ code: 4409, reason: 'Subscriber for b already exists' });
  });

  it('hands complete to the runner', async () => {
    const s = session();
    send(s, { type: 'connection_init' });
    await settle();
    send(s, { id: 'x', type: 'subscribe', payload: { query: '{ __typename }' } });
    send(s, { id: 'x', type: 'complete' });
    expect(s.runner.stopped).toEqual(['x']);
  });

  it('finalises a connection whose socket closed while it was being admitted', async () => {
    let admit!: () => void;
    const s = session({ authenticate: () => new Promise((resolve) => (admit = () => resolve(viewer('dave')))) });
    send(s, { type: 'connection_init', payload: { token: 'dave' } });
    s.protocol.closed(1001, 'gone');
    admit();
    await settle();
    await settle();
    expect(s.registry.size).toBe(0);
    expect(s.channel.of('connection_ack')).toHaveLength(0);
  });
});
