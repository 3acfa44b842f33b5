import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { CloseCode as ProtocolCloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { Logger } from 'pino';

/** What graphql-ws hands our hooks as `ctx.extra`; `request` is dropped once the connection is admitted. */
export interface SocketExtra {
  readonly socket: WebSocket;
  request: IncomingMessage | undefined;
}

export interface GraphQLWsBinding<E extends SocketExtra> {
  readonly logger: Logger;
  /** The `extra` graphql-ws hands the hooks of this socket. */
  extraFor(socket: WebSocket, request: IncomingMessage): E;
  /** Every message received, before graphql-ws handles it (activity tracking). */
  received?(extra: E): void;
}

/** graphql-ws's own default, which it applies when the option is left out. */
const DEFAULT_INIT_WAIT_MS = 3000;

/**
 * graphql-ws's protocol server on `ws` sockets, in place of `graphql-ws/use/ws`. That adapter awaits each
 * message inside an async listener, and the subscribe handler only returns when its subscription ends,
 * so every running subscription kept its raw message Buffer, a second suspended frame and two `once`
 * wrappers alive (about 0.7 KB each). Here the listener is synchronous and keeps nothing. graphql-ws
 * also kept its fired init-wait timer for the socket's life; this one is dropped once `connection_init`
 * arrives. Keep-alive is ours (keep-alive.ts: one timer for all sockets).
 */
export function serveGraphQLWs<E extends SocketExtra>(
  options: ServerOptions<Record<string, unknown> | undefined, E>,
  wss: WebSocketServer,
  binding: GraphQLWsBinding<E>,
): void {
  const { logger, extraFor, received } = binding;
  const initWaitMs = options.connectionInitWaitTimeout ?? DEFAULT_INIT_WAIT_MS;
  const awaitingInit = new Map<WebSocket, NodeJS.Timeout>();
  const initReceived = (socket: WebSocket) => {
    clearTimeout(awaitingInit.get(socket));
    awaitingInit.delete(socket);
  };
  const server = makeServer<Record<string, unknown> | undefined, E>({
    ...options,
    connectionInitWaitTimeout: 0,
    onConnect: (ctx) => {
      initReceived(ctx.extra.socket);
      return options.onConnect?.(ctx);
    },
  });
  wss.options.handleProtocols = handleProtocols;
  wss.on('error', (error) => {
    logger.error({ err: error }, 'websocket server error');
    for (const socket of wss.clients) socket.close(ProtocolCloseCode.InternalServerError, 'Internal server error');
  });
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const failed = (error: unknown) => {
      logger.error({ err: error }, 'websocket message handling failed');
      socket.close(ProtocolCloseCode.InternalServerError, 'Internal server error');
    };
    // A frame `ws` rejects (too big: 1009, malformed: 1002) is the client's fault, and `ws` has already
    // started the close with the right code; only a socket-level failure is worth more than a debug line.
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code?.startsWith('WS_ERR_')) logger.debug({ err: error }, 'websocket protocol error from client');
      else logger.warn({ err: error }, 'websocket socket error');
    });
    if (initWaitMs > 0 && Number.isFinite(initWaitMs)) {
      awaitingInit.set(
        socket,
        setTimeout(() => {
          awaitingInit.delete(socket);
          socket.close(ProtocolCloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
        }, initWaitMs),
      );
    }
    const extra = extraFor(socket, request);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) => {
          socket.on('message', (data) => {
            received?.(extra);
            handle(String(data)).catch(failed);
          });
        },
      },
      extra,
    );
    socket.on('close', (code, reason) => {
      initReceived(socket);
      closed(code, String(reason)).catch((error: unknown) => logger.warn({ err: error }, 'websocket close handling failed'));
    });
  });
}
