import type { GraphQLError } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Logger } from 'pino';
import type { DeliveredResult } from '../../graphql/delivery/delivered-result.js';
import type { Connection } from '../../modules/connections/connection.js';
import type { ConnectionRegistry } from '../../modules/connections/connection-registry.js';
import type { Authenticate } from '../context-factory.js';
import { tokenFrom } from '../ws/connection-params.js';
import type { OperationSink, Operations } from '../ws/operation-runner.js';
import type { ProtocolSession, SocketChannel } from '../ws/socket-channel.js';
import type { DocumentPayloads } from './documents.js';
import type { DataHandler, EndpointSession, LegacyEndpoint, RunOptions } from './endpoint.js';
import type { HeartbeatTarget, LegacyHeartbeat } from './heartbeat.js';
import { closeCodeFor, errorFrame, frame, parseClientMessage } from './messages.js';
import { admitSocket } from '../ws/admission.js';

/** Messages a client may send before its socket is admitted (they are answered once it is). */
const MAX_PENDING_MESSAGES = 32;

export interface LegacySessionDeps {
  readonly runner: Operations;
  readonly connections: ConnectionRegistry;
  readonly authenticate: Authenticate;
  readonly heartbeat: LegacyHeartbeat;
  readonly documents: DocumentPayloads;
  readonly logger: Logger;
}

type State = 'admitting' | 'opening' | 'open' | 'closing' | 'closed';

/**
 * One socket of an old `/ws/...` endpoint. Admission is graphql-transport-ws's: the `?token=` is
 * authenticated (4403 when bad), the socket becomes a registry Connection of protocol 'legacy-endpoint'
 * (the per-user cap, 4008; idle timeout; token expiry, 4403; shutdown, 1001), and every message the
 * endpoint understands runs as a GraphQL operation through the shared OperationRunner, so it is
 * authorized, limited and executed exactly as the same operation over graphql-ws.
 */
export class LegacyEndpointSession implements ProtocolSession, EndpointSession, HeartbeatTarget {
  private state: State = 'admitting';
  private connection: Connection | null = null;
  private closedWith: { code: number; reason: string } | null = null;
  private pending: string[] = [];
  private nextId = 0;
  /** Running subscriptions: key → operation id and variables. */
  private readonly subscriptions = new Map<string, { readonly id: string; readonly variables: unknown }>();

  constructor(
    private readonly channel: SocketChannel,
    private readonly endpoint: LegacyEndpoint,
    readonly postId: string | null,
    private readonly deps: LegacySessionDeps,
  ) {
    this.admit().catch((error: unknown) => {
      deps.logger.error({ err: error, endpoint: endpoint.name }, 'legacy endpoint admission failed');
      channel.close(1011, 'Internal server error');
    });
  }

  get viewerId(): string | null {
    return this.connection?.viewer?.id ?? null;
  }

  received(text: string): void {
    this.connection?.touch();
    if (this.state === 'open') return this.handle(text);
    if (this.state !== 'admitting' && this.state !== 'opening') return;
    if (this.pending.length >= MAX_PENDING_MESSAGES) {
      this.error('Too many messages before the connection was ready');
      return;
    }
    this.pending.push(text);
  }

  heard(): void {
    this.connection?.touch();
  }

  closed(code: number, reason: string): void {
    this.state = 'closed';
    this.closedWith = { code, reason };
    this.pending = [];
    this.subscriptions.clear();
    this.deps.heartbeat.delete(this);
    const connection = this.connection;
    this.connection = null;
    if (connection) void this.deps.connections.closed(connection, code, reason).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'connection close handling failed'));
  }

  heartbeat(at: string): void {
    if (this.state === 'open' || this.state === 'opening') this.channel.send(JSON.stringify({ type: 'heartbeat', timestamp: at }));
  }

  send(type: string, data: unknown, timestamp?: string): PromiseLike<void> | undefined {
    if (this.state === 'closed') return undefined;
    return this.channel.send(frame(type, data, timestamp));
  }

  sendMessage(message: Readonly<Record<string, unknown>>): PromiseLike<void> | undefined {
    if (this.state === 'closed') return undefined;
    return this.channel.send(JSON.stringify(message));
  }

  error(message: string, code?: string): void {
    if (this.state !== 'closed') this.channel.send(errorFrame(message, code));
  }

  refuse(errors: readonly GraphQLError[]): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    const first = errors[0];
    this.error(first?.message ?? 'Refused', codeOf(first));
    this.state = 'closing';
    this.pending = [];
    this.channel.close(closeCodeFor(errors), String(first?.extensions?.code ?? 'Refused'));
  }

  run<T, V>(document: TypedDocumentNode<T, V>, variables: V, data: DataHandler<T>, options?: RunOptions): void {
    const connection = this.usable();
    if (!connection) return;
    const sink = new LegacySink(this, data, options?.refused, null);
    this.deps.runner.start(connection, `q${++this.nextId}`, this.deps.documents.payload(document, variables), sink);
  }

  subscribe<T, V>(key: string, document: TypedDocumentNode<T, V>, variables: V, data: DataHandler<T>, options?: RunOptions): boolean {
    const connection = this.usable();
    if (!connection || this.subscriptions.has(key)) return false;
    const id = `${key}#${++this.nextId}`;
    this.subscriptions.set(key, { id, variables });
    const ended = () => {
      if (this.subscriptions.get(key)?.id === id) this.subscriptions.delete(key);
    };
    this.deps.runner.start(connection, id, this.deps.documents.payload(document, variables), new LegacySink(this, data, options?.refused, ended));
    return true;
  }

  unsubscribe(key: string): void {
    const running = this.subscriptions.get(key);
    if (!running) return;
    this.subscriptions.delete(key);
    if (this.connection) this.deps.runner.stop(this.connection, running.id);
  }

  variablesOf(key: string): unknown {
    return this.subscriptions.get(key)?.variables;
  }

  private usable(): Connection | null {
    return this.state === 'open' || this.state === 'opening' ? this.connection : null;
  }

  private handle(text: string): void {
    const message = parseClientMessage(text);
    if (typeof message === 'string') return this.error(message);
    if (message.type === 'ping') {
      this.sendMessage({ type: 'pong', timestamp: new Date().toISOString() });
      return;
    }
    const handler = Object.hasOwn(this.endpoint.messages, message.type) ? this.endpoint.messages[message.type] : undefined;
    if (!handler) return this.error(`Unknown message type: ${message.type}`);
    try {
      handler(this, message);
    } catch (error) {
      this.deps.logger.error({ err: error, endpoint: this.endpoint.name, type: message.type }, 'legacy endpoint message failed');
      this.error('Error processing message');
    }
  }

  private async admit(): Promise<void> {
    const { ip, userAgent } = this.channel.upgrade;
    const opened = await admitSocket(this.deps, {
      token: this.endpoint.authenticates ? tokenFrom(undefined, this.channel.upgrade.url) : null,
      protocol: 'legacy-endpoint',
      origin: { ip, userAgent, clientId: null },
      link: this.channel,
      close: (code, reason) => this.channel.close(code, reason),
      endedWith: () => this.endedWith(),
    });
    if (!opened) return;
    this.connection = opened;
    this.state = 'opening';
    this.deps.heartbeat.add(this);
    await this.endpoint.opened(this);
    if (this.state !== 'opening') return;
    this.state = 'open';
    for (const text of this.pending.splice(0)) {
      if (this.currentState() !== 'open') break;
      this.handle(text);
    }
  }

  /** Read through methods: a field read would stay narrowed across the awaits above. */
  private endedWith(): { code: number; reason: string } | null {
    return this.closedWith;
  }

  private currentState(): State {
    return this.state;
  }
}

const codeOf = (error: GraphQLError | undefined): string | undefined => {
  const code = error?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
};

/** One operation's results for an endpoint: `data` to its handler, errors to `refused` (default: an `error` message). */
class LegacySink<T> implements OperationSink {
  constructor(
    private readonly session: LegacyEndpointSession,
    private readonly data: DataHandler<T>,
    private readonly refused: ((errors: readonly GraphQLError[]) => void) | undefined,
    private readonly ended: (() => void) | null,
  ) {}

  next(delivered: DeliveredResult): PromiseLike<unknown> | undefined {
    const { data, errors } = delivered.result;
    if (data === null || data === undefined) {
      if (errors?.length) this.fail(errors);
      return undefined;
    }
    return this.data(data as T) ?? undefined;
  }

  error(errors: readonly GraphQLError[]): void {
    this.ended?.();
    this.fail(errors);
  }

  complete(): void {
    this.ended?.();
  }

  private fail(errors: readonly GraphQLError[]): void {
    if (this.refused) this.refused(errors);
    else this.session.error(errors[0]?.message ?? 'Error processing message', codeOf(errors[0]));
  }
}
