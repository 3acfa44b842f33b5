import { afterEach, describe, expect, it, vi } from 'vitest';
import { subscriptionsTransportWs } from '../../src/transport/ws/subscriptions-transport-ws.js';
import { legacyKeepAliveInterval } from '../../src/transport/ws/legacy-keep-alive.js';
import type { OperationPayload, OperationSink, Operations } from '../../src/transport/ws/operation-runner.js';
import { DeliveredResult } from '../../src/graphql/delivery/delivered-result.js';
import type { Connection } from '../../src/modules/connections/connection.js';
import { TokenError } from '../../src/modules/auth/tokens.js';
import { GraphQLError } from 'graphql';
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

interface Options {
  authenticate?: (token: string) => Promise<ReturnType<typeof viewer>>;
  initTimeoutMs?: number;
  keepAliveMs?: number;
  maxConnectionsPerUser?: number;
}

function session(options: Options = {}) {
  const { registry } = memoryRegistry({ maxConnectionsPerUser: options.maxConnectionsPerUser ?? 2 });
  const runner = new FakeOperations();
  const adapter = subscriptionsTransportWs({
    runner,
    connections: registry,
    authenticate: options.authenticate ?? (async (token) => viewer(token)),
    initTimeoutMs: options.initTimeoutMs ?? 0,
    keepAliveMs: options.keepAliveMs ?? 0,
    logger: silentLogger,
  });
  const channel = new FakeChannel();
  return { channel, protocol: adapter(channel), runner, registry, adapter };
}

const send = (s: { protocol: { received(data: string): void } }, frame: unknown) => s.protocol.received(JSON.stringify(frame));

describe('the subscriptions-transport-ws adapter (fake sockets)', () => {
  afterEach(() => vi.useRealTimers());

  it('acknowledges connection_init, registers the connection as graphql-ws, and finalises it on close', async () => {
    const s = session();
    send(s, { type: 'connection_init', payload: { authorization: 'Bearer alice' } });
    await settle();
    expect(s.channel.sent).toEqual([{ type: 'connection_ack' }]);
    expect(s.registry.size).toBe(1);
    s.protocol.closed(1000, '');
    await settle();
    expect(s.registry.size).toBe(0);
  });

  it('holds a start sent before the ack (the legacy client does not wait) and runs it once admitted; a stop drops a held one', async () => {
    const s = session();
    send(s, { type: 'connection_init', payload: { token: 'erin' } });
    send(s, { id: '1', type: 'start', payload: { query: 'subscription { health { status } }' } });
    send(s, { id: '2', type: 'start', payload: { query: '{ __typename }' } });
    send(s, { id: '2', type: 'stop' });
    expect(s.runner.started).toHaveLength(0);
    await settle();
    expect(s.runner.started.map((each) => each.id)).toEqual(['1']);
    expect(s.runner.started[0]?.connection.viewer?.id).toBe('erin');
  });

  it('refuses a bad token with connection_error, then closes with 4403', async () => {
    const s = session({
      authenticate: async () => {
        throw new TokenError('INVALID', 'Invalid access token');
      },
    });
    send(s, { type: 'connection_init', payload: { authorization: 'Bearer forged' } });
    send(s, { id: '1', type: 'start', payload: { query: '{ __typename }' } });
    await settle();
    expect(s.channel.sent).toEqual([{ type: 'connection_error', payload: { message: 'Invalid access token', extensions: { code: 'UNAUTHENTICATED', closeCode: 4403 } } }]);
    expect(s.channel.closedWith).toEqual({ code: 4403, reason: 'Invalid access token' });
    expect(s.runner.started).toHaveLength(0);
    expect(s.registry.size).toBe(0);
  });

  it('refuses a connection above the per-user cap with connection_error (RATE_LIMITED), then closes with 4008', async () => {
    const s = session({ maxConnectionsPerUser: 1 });
    send(s, { type: 'connection_init', payload: { token: 'bob' } });
    await settle();
    const second = new FakeChannel();
    s.adapter(second).received(JSON.stringify({ type: 'connection_init', payload: { token: 'bob' } }));
    await settle();
    expect(s.channel.closedWith).toBeNull();
    expect(second.of('connection_error')[0]?.payload).toMatchObject({ extensions: { code: 'RATE_LIMITED', closeCode: 4008 } });
    expect(second.closedWith?.code).toBe(4008);
  });

  it('answers a bad message with error (under its id when it had one) and stays open', async () => {
    const s = session();
    s.protocol.received('{not json');
    send(s, { type: 'connection_init' });
    await settle();
    send(s, { type: 'connection_init' });
    send(s, { id: 'x', type: 'subscribe', payload: {} });
    send(s, { id: 'y', type: 'start' });
    send(s, [1, 2]);
    send(s, { id: 'v', type: 'start', payload: { query: '{ __typename }', variables: 'postId=1' } });
    const errors = s.channel.of('error');
    expect(errors).toHaveLength(6);
    expect(errors.map((frame) => frame.id)).toEqual([undefined, undefined, 'x', 'y', undefined, 'v']);
    expect(errors[2]?.payload).toEqual([{ message: 'Unexpected message of type subscribe received', extensions: { code: 'BAD_REQUEST' } }]);
    expect(s.channel.closedWith).toBeNull();
    send(s, { id: 'z', type: 'start', payload: { query: '{ __typename }' } });
    expect(s.runner.started.map((each) => each.id)).toEqual(['z']);
  });

  it('frames results as data, refusals as error (GraphQL errors with their codes), and the end as complete', async () => {
    const s = session();
    send(s, { type: 'connection_init', payload: { token: 'carol' } });
    await settle();
    send(s, { id: 'a', type: 'start', payload: { query: 'subscription { health { status } }' } });
    send(s, { id: 'b', type: 'start', payload: { query: 'subscription { secret }' } });
    const [a, b] = s.runner.started;
    a!.sink.next(new DeliveredResult({ data: { health: { status: 'OK' } } }));
    a!.sink.next(new DeliveredResult({ data: null, errors: [new GraphQLError('boom', { extensions: { code: 'NOT_FOUND' } })] }));
    a!.sink.complete();
    b!.sink.error([new GraphQLError('Not allowed', { extensions: { code: 'FORBIDDEN' } })]);
    expect(s.channel.of('data')).toEqual([
      { id: 'a', type: 'data', payload: { data: { health: { status: 'OK' } } } },
      { id: 'a', type: 'data', payload: { data: null, errors: [{ message: 'boom', extensions: { code: 'NOT_FOUND' } }] } },
    ]);
    expect(s.channel.of('complete')).toEqual([{ id: 'a', type: 'complete' }]);
    expect(s.channel.of('error')).toEqual([{ id: 'b', type: 'error', payload: [{ message: 'Not allowed', extensions: { code: 'FORBIDDEN' } }] }]);
  });

  it('replaces the operation of a re-used id, hands stop to the runner, and closes with 1000 on connection_terminate', async () => {
    const s = session();
    send(s, { type: 'connection_init' });
    await settle();
    send(s, { id: '7', type: 'start', payload: { query: '{ a: __typename }' } });
    send(s, { id: '7', type: 'start', payload: { query: '{ b: __typename }' } });
    expect(s.runner.stopped).toEqual(['7']);
    expect(s.runner.started.map((each) => each.payload.query)).toEqual(['{ a: __typename }', '{ b: __typename }']);
    send(s, { id: '7', type: 'stop' });
    expect(s.runner.stopped).toEqual(['7', '7']);
    send(s, { type: 'connection_terminate' });
    expect(s.channel.closedWith?.code).toBe(1000);
  });

  it('tells the client why the server closes an admitted connection (token expiry), then closes with its code', async () => {
    const s = session();
    send(s, { type: 'connection_init', payload: { token: 'frank' } });
    await settle();
    send(s, { id: '1', type: 'start', payload: { query: '{ __typename }' } });
    s.runner.started[0]!.connection.close(4403, 'Access token expired');
    expect(s.channel.of('connection_error')).toEqual([{ type: 'connection_error', payload: { message: 'Access token expired', extensions: { code: 'UNAUTHENTICATED', closeCode: 4403 } } }]);
    expect(s.channel.closedWith).toEqual({ code: 4403, reason: 'Access token expired' });
  });

  it('sends ka at once after the ack and on every interval until the socket closes; 4408 without connection_init', async () => {
    vi.useFakeTimers();
    const s = session({ keepAliveMs: 1000 });
    send(s, { type: 'connection_init' });
    await vi.advanceTimersByTimeAsync(0);
    expect(s.channel.sent).toEqual([{ type: 'connection_ack' }, { type: 'ka' }]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(s.channel.of('ka')).toHaveLength(3);
    s.protocol.closed(1000, '');
    await vi.advanceTimersByTimeAsync(2000);
    expect(s.channel.of('ka')).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);

    const silent = session({ initTimeoutMs: 1000 });
    vi.advanceTimersByTime(1000);
    expect(silent.channel.closedWith?.code).toBe(4408);
  });

  it('keeps ka within the legacy client default timeout of 30 s', () => {
    expect(legacyKeepAliveInterval(30_000)).toBe(15_000);
    expect(legacyKeepAliveInterval(5_000)).toBe(5_000);
  });
});
