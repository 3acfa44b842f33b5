import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { DeliveredResult } from '../../graphql/delivery/delivered-result.js';
import type { Connection, ConnectionLink } from '../../modules/connections/connection.js';
import type { ConnectionRegistry } from '../../modules/connections/connection-registry.js';
import { CloseCode } from '../../shared/close-codes.js';
import type { Authenticate } from '../context-factory.js';
import { clientIdFrom, tokenFrom } from './connection-params.js';
import { LegacyKeepAlive } from './legacy-keep-alive.js';
import type { OperationPayload, OperationSink, Operations } from './operation-runner.js';
import type { ProtocolSession, SocketChannel } from './socket-channel.js';
import { admitSocket } from './admission.js';

/** The WebSocket subprotocol the legacy protocol negotiates (the graphql-ws *library* uses `graphql-transport-ws`). */
export const LEGACY_SUBPROTOCOL = 'graphql-ws';

/** `start`s held while `connection_init` is being answered (the legacy client sends them without waiting for the ack). */
const MAX_EARLY_STARTS = 100;

export interface SubscriptionsTransportWsDeps {
  readonly runner: Operations;
  readonly connections: ConnectionRegistry;
  readonly authenticate: Authenticate;
  /** `connection_init` must arrive within this (closed with 4408, as graphql-transport-ws). */
  readonly initTimeoutMs: number;
  /** How often every acknowledged socket gets a `ka` (see legacyKeepAliveInterval). */
  readonly keepAliveMs: number;
  readonly logger: Logger;
}

/** GraphQL codes of the closes a legacy client is told about in `connection_error` (it never sees close codes). */
const CLOSE_ERROR_CODES: Readonly<Record<number, string>> = {
  [CloseCode.Forbidden]: 'UNAUTHENTICATED',
  [CloseCode.TooManyConnections]: 'RATE_LIMITED',
};

/**
 * The legacy `subscriptions-transport-ws` protocol (subprotocol `graphql-ws`) over one socket: the same
 * OperationRunner and ConnectionRegistry as graphql-transport-ws (auth, limits, shared execution, push
 * delivery); only the framing differs. Where graphql-transport-ws closes with a code, this protocol
 * answers with a message, because its client neither reports close codes nor stops reconnecting:
 * `connection_error` (then the close) for a refused connection, `error` for a bad message or an
 * operation refused before it started, `data` with `errors` for an execution error.
 */
export function subscriptionsTransportWs(deps: SubscriptionsTransportWsDeps): (channel: SocketChannel) => ProtocolSession {
  const keepAlive = new LegacyKeepAlive(deps.keepAliveMs);
  return (channel) => new LegacySession(channel, deps, keepAlive);
}

interface LegacyMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: unknown;
}

class LegacySession implements ProtocolSession, ConnectionLink {
  private initReceived = false;
  private connection: Connection | null = null;
  private ended: { code: number; reason: string } | null = null;
  private initTimer: NodeJS.Timeout | null;
  /** `start`s that came before the connection was admitted, run (or dropped) once it is. */
  private early: LegacyMessage[] | null = [];

  constructor(
    private readonly channel: SocketChannel,
    private readonly deps: SubscriptionsTransportWsDeps,
    private readonly keepAlive: LegacyKeepAlive,
  ) {
    this.initTimer =
      deps.initTimeoutMs > 0 && Number.isFinite(deps.initTimeoutMs)
        ? setTimeout(() => {
            this.initTimer = null;
            if (!this.initReceived) this.close(4408, 'Connection initialisation timeout');
          }, deps.initTimeoutMs)
        : null;
  }

  received(data: string): void {
    this.connection?.touch();
    const message = parseLegacyMessage(data);
    if (typeof message === 'string') return this.badMessage(message, undefined);
    switch (message.type) {
      case 'connection_init':
        if (this.initReceived) return this.badMessage('Too many initialisation requests', message.id);
        this.initReceived = true;
        this.clearInitTimer();
        this.init(message.payload as Record<string, unknown> | undefined).catch((error: unknown) => {
          this.deps.logger.error({ err: error }, 'websocket connection_init failed');
          this.close(4500, 'Internal server error');
        });
        return;
      case 'start':
        if (typeof message.id !== 'string' || !isOperationPayload(message.payload)) {
          return this.badMessage('start needs a string id and a payload { query?, documentId?, variables?, operationName?, extensions? } of the right types', message.id);
        }
        return this.start(message);
      case 'stop':
        if (typeof message.id !== 'string') return this.badMessage('stop needs a string id', undefined);
        if (this.early) this.early = this.early.filter((held) => held.id !== message.id);
        else if (this.connection) this.deps.runner.stop(this.connection, message.id);
        return;
      case 'connection_terminate':
        this.channel.close(1000, 'Normal Closure');
        return;
      default:
        this.badMessage(`Unexpected message of type ${message.type} received`, message.id);
    }
  }

  heard(): void {
    this.connection?.touch();
  }

  closed(code: number, reason: string): void {
    this.clearInitTimer();
    this.keepAlive.delete(this.channel);
    this.ended = { code, reason };
    this.early = null;
    const connection = this.connection;
    this.connection = null;
    if (connection) void this.deps.connections.closed(connection, code, reason).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'connection close handling failed'));
  }

  /**
   * ConnectionLink: how the registry (token expiry, revocation, idle timeout) and the runner (slow
   * consumer) close this socket. The reason goes first as `connection_error`: the only way this
   * protocol's client hears why (its `connectionCallback`); it reconnects on any close.
   */
  close(code: number, reason: string): void {
    if (this.ended) return;
    const payload = { message: reason, extensions: { closeCode: code, ...(CLOSE_ERROR_CODES[code] ? { code: CLOSE_ERROR_CODES[code] } : {}) } };
    this.channel.send(JSON.stringify({ type: 'connection_error', payload }));
    this.channel.close(code, reason);
  }

  private start(message: LegacyMessage): void {
    const early = this.early;
    if (early) {
      if (early.length >= MAX_EARLY_STARTS) return this.refuse(message.id as string, `At most ${MAX_EARLY_STARTS} operations may wait for connection_ack`, 'RATE_LIMITED');
      early.push(message);
      return;
    }
    const connection = this.connection;
    if (!connection) return;
    const id = message.id as string;
    const payload = message.payload as OperationPayload;
    const sink = new DataFrames(this.channel, id);
    // The protocol re-uses an id by replacing its operation (as its reference server does), not by refusing.
    if (this.deps.runner.start(connection, id, payload, sink) === 'duplicate') {
      this.deps.runner.stop(connection, id);
      this.deps.runner.start(connection, id, payload, sink);
    }
  }

  private async init(params: Record<string, unknown> | undefined): Promise<void> {
    const { ip, userAgent } = this.channel.upgrade;
    const opened = await admitSocket(this.deps, {
      token: tokenFrom(typeof params === 'object' && params !== null ? params : undefined, this.channel.upgrade.url),
      protocol: 'graphql-ws',
      origin: { ip, userAgent, clientId: clientIdFrom(params) },
      link: this,
      // connection_error first: this protocol's client never shows close codes.
      close: (code, reason) => this.close(code, reason),
      endedWith: () => this.endedWith(),
    });
    if (!opened) return;
    this.connection = opened;
    this.channel.send('{"type":"connection_ack"}');
    this.keepAlive.add(this.channel);
    const early = this.early ?? [];
    this.early = null;
    for (const message of early) this.start(message);
  }

  /** A message this protocol cannot act on: an `error` (under its id, when it had one), and the socket stays open. */
  private badMessage(message: string, id: unknown): void {
    this.channel.send(JSON.stringify({ ...(typeof id === 'string' ? { id } : {}), type: 'error', payload: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
  }

  private refuse(id: string, message: string, code: string): void {
    this.channel.send(JSON.stringify({ id, type: 'error', payload: [{ message, extensions: { code } }] }));
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

/** A parsed message with a string `type`, or why the frame is not one. */
function parseLegacyMessage(data: string): LegacyMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return 'Message must be JSON-parseable';
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') return 'Message must be an object with a string type';
  return value as LegacyMessage;
}

/** The checks graphql-ws's parser makes of a subscribe payload, for `start` (the id-only form included). */
function isOperationPayload(value: unknown): value is OperationPayload {
  if (typeof value !== 'object' || value === null) return false;
  const { query, documentId, variables, operationName, extensions } = value as Record<string, unknown>;
  const optional = (field: unknown, type: 'string' | 'object') => field === undefined || field === null || (typeof field === type && !Array.isArray(field));
  return optional(query, 'string') && optional(documentId, 'string') && optional(variables, 'object') && optional(operationName, 'string') && optional(extensions, 'object');
}

/** What every subscriber's `data` message for one result shares: all of it after the id. */
const DATA_TAIL = '"type":"data","payload":';

/** Frames one operation's outcome as legacy messages: `data` per result, `error` when refused or failed, `complete`. */
class DataFrames implements OperationSink {
  /** This operation's own part of each `data` message: `{"id":"<id>",`. */
  private readonly head: string;

  constructor(
    private readonly channel: SocketChannel,
    private readonly id: string,
  ) {
    this.head = `{"id":${JSON.stringify(id)},`;
  }

  next(result: DeliveredResult): PromiseLike<unknown> | undefined {
    // The payload bytes are encoded once per result and shared by every socket it goes to.
    return this.channel.sendParts(this.head, result.framed(DATA_TAIL));
  }

  error(errors: readonly GraphQLError[]): void {
    this.channel.send(JSON.stringify({ id: this.id, type: 'error', payload: errors.map((error) => error.toJSON()) }));
  }

  complete(): void {
    this.channel.send(`${this.head}"type":"complete"}`);
  }
}
