import type { GraphQLError } from 'graphql';
import { CloseCode as ProtocolCloseCode, MessageType, parseMessage, stringifyMessage, type Message } from 'graphql-ws';
import type { Logger } from 'pino';
import type { DeliveredResult } from '../../graphql/delivery/delivered-result.js';
import type { Connection } from '../../modules/connections/connection.js';
import type { ConnectionRegistry } from '../../modules/connections/connection-registry.js';
import type { Authenticate } from '../context-factory.js';
import { addEmptyQueryToIdPayload } from '../../shared/document-id.js';
import { clientIdFrom, tokenFrom } from './connection-params.js';
import type { OperationSink, Operations } from './operation-runner.js';
import type { ProtocolSession, SocketChannel } from './socket-channel.js';
import { admitSocket } from './admission.js';

export interface GraphQLTransportWsDeps {
  readonly runner: Operations;
  readonly connections: ConnectionRegistry;
  readonly authenticate: Authenticate;
  /** `connection_init` must arrive within this (4408). */
  readonly initTimeoutMs: number;
  readonly instanceId: string;
  readonly logger: Logger;
}

/**
 * The `graphql-transport-ws` protocol (the graphql-ws library's; its message parser and types are
 * used here) over one socket. The protocol is ours to run rather than graphql-ws's `makeServer`
 * because the operation lifecycle is shared with the other protocols (OperationRunner and
 * ConnectionRegistry own it), ids are registered before anything is awaited (a re-used id cannot run
 * twice), and results are pushed, not pulled. Close codes are graphql-ws's own plus Herald's (README).
 */
export function graphqlTransportWs(deps: GraphQLTransportWsDeps): (channel: SocketChannel) => ProtocolSession {
  return (channel) => new GraphQLTransportWsSession(channel, deps);
}

class GraphQLTransportWsSession implements ProtocolSession {
  private initReceived = false;
  private connection: Connection | null = null;
  private ended: { code: number; reason: string } | null = null;
  private initTimer: NodeJS.Timeout | null;

  constructor(
    private readonly channel: SocketChannel,
    private readonly deps: GraphQLTransportWsDeps,
  ) {
    this.initTimer =
      deps.initTimeoutMs > 0 && Number.isFinite(deps.initTimeoutMs)
        ? setTimeout(() => {
            this.initTimer = null;
            if (!this.initReceived) channel.close(ProtocolCloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
          }, deps.initTimeoutMs)
        : null;
  }

  received(data: string): void {
    this.connection?.touch();
    let message: Message;
    try {
      // Parsed without a reviver (one call per key would cost every message), then checked by graphql-ws.
      const parsed: unknown = JSON.parse(data);
      // A subscribe by trusted-document id carries no `query`; graphql-ws's check wants one (an empty one here).
      if (typeof parsed === 'object' && parsed !== null && 'payload' in parsed) {
        (parsed as { payload: unknown }).payload = addEmptyQueryToIdPayload.call(parsed, 'payload', (parsed as { payload: unknown }).payload);
      }
      message = parseMessage(parsed);
    } catch {
      this.channel.close(ProtocolCloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        if (this.initReceived) {
          this.channel.close(ProtocolCloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
          return;
        }
        this.initReceived = true;
        this.clearInitTimer();
        this.init(message.payload).catch((error: unknown) => {
          this.deps.logger.error({ err: error }, 'websocket connection_init failed');
          this.channel.close(ProtocolCloseCode.InternalServerError, 'Internal server error');
        });
        return;
      case MessageType.Ping:
        this.channel.send(stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
        return;
      case MessageType.Pong:
        return;
      case MessageType.Subscribe: {
        const connection = this.connection;
        if (!connection) {
          this.channel.close(ProtocolCloseCode.Unauthorized, 'Unauthorized');
          return;
        }
        const started = this.deps.runner.start(connection, message.id, message.payload, new NextFrames(this.channel, message.id));
        if (started === 'duplicate') this.channel.close(ProtocolCloseCode.SubscriberAlreadyExists, `Subscriber for ${message.id} already exists`);
        return;
      }
      case MessageType.Complete:
        if (this.connection) this.deps.runner.stop(this.connection, message.id);
        return;
      default:
        this.channel.close(ProtocolCloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  }

  heard(): void {
    this.connection?.touch();
  }

  closed(code: number, reason: string): void {
    this.clearInitTimer();
    this.ended = { code, reason };
    const connection = this.connection;
    this.connection = null;
    if (connection) void this.deps.connections.closed(connection, code, reason).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'connection close handling failed'));
  }

  private async init(params: Record<string, unknown> | undefined): Promise<void> {
    const { ip, userAgent } = this.channel.upgrade;
    const opened = await admitSocket(this.deps, {
      token: tokenFrom(params, this.channel.upgrade.url),
      protocol: 'graphql-transport-ws',
      origin: { ip, userAgent, clientId: clientIdFrom(params) },
      link: this.channel,
      close: (code, reason) => this.channel.close(code, reason),
      endedWith: () => this.endedWith(),
    });
    if (!opened) return;
    this.connection = opened;
    this.channel.send(stringifyMessage({ type: MessageType.ConnectionAck, payload: { connectionId: opened.id, instanceId: this.deps.instanceId } }));
  }

  /** How the socket closed, null while open (a method: a field read would stay narrowed across awaits). */
  private endedWith(): { code: number; reason: string } | null {
    return this.ended;
  }

  private clearInitTimer(): void {
    if (this.initTimer) clearTimeout(this.initTimer);
    this.initTimer = null;
  }
}

/** What every subscriber's `next` message for one result shares: all of it after the id. */
const NEXT_TAIL = '"type":"next","payload":';

/** Frames one operation's outcome as graphql-transport-ws messages (one small object per operation, no closures). */
class NextFrames implements OperationSink {
  /** This operation's own part of each `next` message: `{"id":"<id>",`. */
  private readonly head: string;

  constructor(
    private readonly channel: SocketChannel,
    private readonly id: string,
  ) {
    this.head = `{"id":${JSON.stringify(id)},`;
  }

  next(result: DeliveredResult): PromiseLike<unknown> | undefined {
    // The payload bytes are encoded once per result and shared by every socket it goes to.
    return this.channel.sendParts(this.head, result.framed(NEXT_TAIL));
  }

  error(errors: readonly GraphQLError[]): void {
    this.channel.send(stringifyMessage({ id: this.id, type: MessageType.Error, payload: errors.map((error) => error.toJSON()) }));
  }

  complete(): void {
    this.channel.send(stringifyMessage({ id: this.id, type: MessageType.Complete }));
  }
}
