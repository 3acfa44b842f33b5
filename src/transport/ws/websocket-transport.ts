import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { isAsyncIterable } from 'graphql-yoga';
import { GraphQLError, type ExecutionArgs, type OperationTypeNode } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../../shared/config.js';
import type { Services } from '../../services.js';
import type { HeraldYoga } from '../http/yoga.js';
import type { RequestOrigin } from '../../graphql/context.js';
import type { Viewer } from '../../modules/auth/viewer.js';
import { TokenError, parseBearer } from '../../modules/auth/tokens.js';
import { clientAddress } from '../client-address.js';
import { operationOf, rootFieldOf } from '../../graphql/operation.js';
import { isOriginAllowed } from '../origin.js';
import { CloseCode } from '../../shared/close-codes.js';
import { guardSendBuffer, isSlowConsumerError } from './send-guard.js';
import type { SocketOperationContext } from '../context-factory.js';
import { SHARED_STREAM_SLOT, type SharedStreamSlot } from '../../graphql/plugins/shared-execution.js';
import { DirectDelivery, PayloadCache } from './direct-delivery.js';
import { maskError } from '../../graphql/mask-error.js';
import { startKeepAlive } from './keep-alive.js';
import { serveGraphQLWs, type SocketExtra } from './graphql-transport-ws.js';

const EXPIRY_SWEEP_MS = 500;

/** Per-connection state, kept on graphql-ws's `extra`. */
export interface SocketState {
  readonly id: string;
  viewer: Viewer | null;
  readonly origin: RequestOrigin;
  readonly socket: WebSocket;
  readonly openedAt: number;
  /** Last message or pong from the client (ms); the idle timeout and `lastSeenAt` read it. */
  lastActivityAt: number;
  /** Ids of this connection's running operations, with their root field. */
  readonly operations: Map<string, string>;
}

type HeraldExtra = SocketExtra & { state?: SocketState };

/**
 * Hooks the connections module implements: tracking records, the per-user cap across instances,
 * and the per-operation limits. `admit` returns a close code and reason to refuse a connection.
 */
export interface ConnectionLifecycle {
  admit(state: SocketState): Promise<{ code: number; reason: string } | null>;
  /** After admission (the connection is acknowledged). */
  opened(state: SocketState): Promise<void>;
  closed(state: SocketState, code: number, reason: string): Promise<void>;
  /**
   * Before an operation runs: null lets it run; `{code, reason}` closes the socket; `{error, code}`
   * refuses this operation with a GraphQL error (extensions.code = code, plus `extensions`).
   */
  operationStarted?(
    state: SocketState,
    id: string,
    field: string,
    kind?: OperationTypeNode,
  ): { code: number; reason: string } | { error: string; code: string; extensions?: Readonly<Record<string, unknown>> } | null;
  operationEnded?(state: SocketState, id: string, field: string): void;
  /** A connection refused before admission (bad token: 4403); feeds metrics. */
  refused?(code: number, reason: string): void;
}

export interface WebSocketTransport {
  /** Live connection states on this instance, by socket. */
  readonly connections: ReadonlyMap<WebSocket, SocketState>;
  /** Closes every socket of a session (logout, refresh-token reuse) with 4403. */
  closeSession(sessionId: string, reason: string): void;
  /** Closes one connection by id (admin kick, or the cap freeing a slot). */
  closeConnection(connectionId: string, code: number, reason: string): boolean;
  /** Stops accepting, closes every socket with 1001 and waits for their close handlers. */
  dispose(): Promise<void>;
}

export interface WebSocketDeps {
  readonly server: Server;
  readonly yoga: HeraldYoga;
  readonly services: Services;
  readonly config: Config;
  readonly logger: Logger;
  readonly lifecycle: ConnectionLifecycle;
}

/** graphql-ws over `ws` on the HTTP server's `/graphql`, every operation through Yoga's envelop pipeline. */
export function attachWebSocketTransport(deps: WebSocketDeps): WebSocketTransport {
  const { config, logger } = deps;
  const connections = new Map<WebSocket, SocketState>();
  const isDev = config.env !== 'production';
  // Yoga masks errors of results it yields; direct delivery bypasses that iterator, so it masks with the same function.
  const payloads = new PayloadCache((error) => maskError(error, 'Unexpected error.', isDev));
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.ws.maxPayloadBytes });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/graphql') return rejectUpgrade(socket, 404, 'Not Found');
    if (!isOriginAllowed(request.headers.origin, config.allowedOrigins)) {
      logger.info({ origin: request.headers.origin }, 'websocket origin rejected');
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  deps.server.on('upgrade', onUpgrade);
  // Send path only: a client that stops reading is closed with 4413 instead of growing our memory.
  wss.on('connection', (ws: WebSocket) => guardSendBuffer(ws, config.ws.sendBufferBytes, logger));

  const debug = logger.isLevelEnabled('debug');
  if (debug) {
    wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data) => logger.debug({ frame: redactFrame(String(data)) }, 'ws <-'));
    });
  }

  serveGraphQLWs<HeraldExtra>(
    {
      connectionInitWaitTimeout: config.ws.initTimeoutMs,
      onConnect: async (ctx) => {
        const extra = ctx.extra;
        const request = extra.request;
        if (!request) return false;
        const state: SocketState = {
          id: randomUUID(),
          viewer: null,
          origin: {
            transport: 'ws',
            ip: clientAddress(request, config.trustedProxies),
            userAgent: request.headers['user-agent'] ?? null,
            clientId: typeof ctx.connectionParams?.clientId === 'string' ? ctx.connectionParams.clientId.slice(0, 128) : null,
            connectionId: null,
          },
          socket: extra.socket,
          openedAt: Date.now(),
          lastActivityAt: Date.now(),
          operations: new Map(),
        };
        (state.origin as { connectionId: string | null }).connectionId = state.id;
        const token = tokenFrom(ctx.connectionParams, request);
        if (token) {
          try {
            state.viewer = await deps.services.auth.authenticate(token);
          } catch (error) {
            const reason = error instanceof TokenError ? error.message : 'Authentication failed';
            if (!(error instanceof TokenError)) logger.warn({ err: error }, 'websocket authentication error');
            extra.socket.close(CloseCode.Forbidden, reason);
            deps.lifecycle.refused?.(CloseCode.Forbidden, reason);
            return false;
          }
        }
        const refusal = await deps.lifecycle.admit(state);
        if (refusal) {
          extra.socket.close(refusal.code, refusal.reason);
          return false;
        }
        extra.state = state;
        connections.set(state.socket, state);
        // Everything needed from the upgrade request and the token is in `state` now; graphql-ws would
        // otherwise hold both (a few hundred bytes to a few KB) for the socket's life.
        extra.request = undefined;
        forgetToken(ctx.connectionParams);
        await deps.lifecycle.opened(state).catch((error: unknown) => logger.warn({ err: error }, 'connection open hook failed'));
        return { connectionId: state.id, instanceId: config.instanceId };
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = ctx.extra.state;
        if (!state) return;
        // GraphiQL sends its Headers editor as `extensions.headers` on each subscribe, not as
        // connectionParams: an anonymous socket may authenticate one operation that way (as HTTP/SSE do).
        const viewer = state.viewer ?? (await operationViewer(payload.extensions, deps.services));
        if (viewer instanceof GraphQLError) return [viewer];
        const herald: SocketOperationContext = { viewer, origin: state.origin };
        // Only what the context factory reads: the operation's context lives as long as its subscription.
        const { schema, execute, subscribe, contextFactory, parse, validate } = deps.yoga.getEnveloped({ params: payload, herald });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('Syntax error', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const operation = operationOf(document, payload.operationName);
        const field = rootFieldOf(operation) ?? 'unknown';
        const kind = operation?.operation;
        // WS_JWT_AUTH_REQUIRED: anonymous sockets are admitted so `health` works, and nothing else does.
        if (!viewer && config.ws.authRequired && field !== 'health' && field !== '__typename') {
          return [new GraphQLError('This WebSocket needs an access token (connectionParams.authorization)', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        const verdict = deps.lifecycle.operationStarted?.(state, id, field, kind) ?? null;
        if (verdict && 'reason' in verdict) {
          state.socket.close(verdict.code, verdict.reason);
          return [];
        }
        if (verdict && 'error' in verdict) {
          return [new GraphQLError(verdict.error, { extensions: { ...verdict.extensions, code: verdict.code } })];
        }
        state.operations.set(id, field);
        const contextValue = (await contextFactory()) as object & { [SHARED_STREAM_SLOT]?: SharedStreamSlot };
        const slot: SharedStreamSlot = { stream: null };
        contextValue[SHARED_STREAM_SLOT] = slot;
        const runner: OperationRunner = {
          execute,
          // A subscription whose source is an EventStream is delivered by DirectDelivery instead of
          // graphql-ws pulling and serialising each result per subscriber.
          subscribe: async (args) => {
            const result = await subscribe(args);
            const source = slot.stream?.pushSource;
            if (!slot.stream || !source || !isAsyncIterable(result)) return result;
            return new DirectDelivery(state.socket, id, slot.stream, source, payloads);
          },
        };
        const args: ExecutionArgs = {
          schema,
          document,
          contextValue,
          variableValues: payload.variables,
          operationName: payload.operationName,
          rootValue: runner,
        };
        return args;
      },
      execute: (args) => (args.rootValue as OperationRunner).execute(args) as never,
      subscribe: (args) => (args.rootValue as OperationRunner).subscribe(args) as never,
      onComplete: (ctx, id) => endOperation(ctx.extra, id),
      onError: (ctx, id, _payload, errors) => {
        endOperation(ctx.extra, id);
        // A 'fail' stream overflowed (its client reads too slowly): a gap would mislead, so the whole
        // socket closes with the documented 4413 rather than one operation ending with an error frame.
        if (errors.some(isSlowConsumerError)) ctx.extra.socket.close(CloseCode.SlowConsumer, 'Slow consumer: event queue full');
      },
      onClose: async (ctx, code, reason) => {
        const state = ctx.extra.state;
        if (!state) return;
        connections.delete(state.socket);
        for (const [id, field] of state.operations) deps.lifecycle.operationEnded?.(state, id, field);
        state.operations.clear();
        await deps.lifecycle.closed(state, code ?? 1005, reason ?? '').catch((error: unknown) => logger.warn({ err: error }, 'connection close hook failed'));
      },
    },
    wss,
    {
      logger,
      extraFor: (socket, request) => ({ socket, request }),
      received: (extra) => {
        if (extra.state) extra.state.lastActivityAt = Date.now();
      },
    },
  );

  const stopKeepAlive = startKeepAlive(wss, config.ws.heartbeatIntervalMs, (socket) => {
    const state = connections.get(socket);
    if (state) state.lastActivityAt = Date.now();
  });
  // One sweep for every socket instead of a timer each: a socket closes with 4403 within
  // EXPIRY_SWEEP_MS of its access token's expiry.
  const expirySweep = setInterval(() => {
    const now = Date.now();
    for (const state of connections.values()) {
      if (state.viewer && state.viewer.tokenExpiresAt <= now) state.socket.close(CloseCode.Forbidden, 'Access token expired');
    }
  }, EXPIRY_SWEEP_MS);
  expirySweep.unref();

  function endOperation(extra: HeraldExtra, id: string) {
    const state = extra.state;
    const field = state?.operations.get(id);
    if (!state || field === undefined) return;
    state.operations.delete(id);
    deps.lifecycle.operationEnded?.(state, id, field);
  }

  return {
    connections,
    closeSession(sessionId, reason) {
      for (const state of connections.values()) if (state.viewer?.sessionId === sessionId) state.socket.close(CloseCode.Forbidden, reason);
    },
    closeConnection(connectionId, code, reason) {
      for (const state of connections.values()) {
        if (state.id === connectionId) {
          state.socket.close(code, reason);
          return true;
        }
      }
      return false;
    },
    async dispose() {
      deps.server.off('upgrade', onUpgrade);
      stopKeepAlive();
      clearInterval(expirySweep);
      const closed = [...wss.clients].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      for (const ws of wss.clients) ws.close(CloseCode.GoingAway, 'Server shutting down');
      // Wait (bounded) for close handshakes so records are finalised before the process exits.
      await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 3000).unref())]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Carried as the operation's rootValue (no resolver reads it): runs it through Yoga's enveloped execute/subscribe. */
interface OperationRunner {
  execute(args: ExecutionArgs): unknown;
  subscribe(args: ExecutionArgs): Promise<unknown>;
}

function forgetToken(params: Record<string, unknown> | undefined): void {
  if (!params) return;
  for (const key of ['authorization', 'Authorization', 'token']) if (key in params) params[key] = undefined;
  const headers = params.headers as Record<string, unknown> | undefined;
  if (headers && typeof headers === 'object' && 'Authorization' in headers) headers.Authorization = undefined;
}

function tokenFrom(params: Record<string, unknown> | undefined, request: IncomingMessage): string | null {
  const fromParams =
    parseBearer(params?.authorization) ?? parseBearer(params?.Authorization) ?? parseBearer(params?.token) ?? parseBearer((params?.headers as Record<string, unknown> | undefined)?.Authorization);
  if (fromParams) return fromParams;
  const url = new URL(request.url ?? '/', 'http://localhost');
  return parseBearer(url.searchParams.get('token'));
}

/**
 * The viewer of one operation on an anonymous socket, from `extensions.headers.Authorization`
 * (GraphiQL's Headers editor). Null without a token; a coded error for a bad one, never anonymous.
 */
async function operationViewer(extensions: Record<string, unknown> | null | undefined, services: Services): Promise<Viewer | null | GraphQLError> {
  const headers = extensions?.headers as Record<string, unknown> | undefined;
  const token = parseBearer(headers?.Authorization) ?? parseBearer(headers?.authorization);
  if (!token) return null;
  try {
    return await services.auth.authenticate(token);
  } catch (error) {
    if (error instanceof TokenError) return new GraphQLError(error.message, { extensions: { code: 'UNAUTHENTICATED', reason: error.reason } });
    throw error;
  }
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function redactFrame(frame: string): string {
  return frame.replace(/("(?:authorization|Authorization|token|password|refreshToken)"\s*:\s*)"[^"]*"/g, '$1"[redacted]"');
}
