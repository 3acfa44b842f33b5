import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode as ProtocolCloseCode } from 'graphql-ws';
import type { Logger } from 'pino';
import { CloseCode } from '../../shared/close-codes.js';
import { clientAddress } from '../client-address.js';
import { isOriginAllowed } from '../origin.js';
import { startKeepAlive } from './keep-alive.js';
import type { ProtocolAdapter, ProtocolSession } from './socket-channel.js';
import { SocketUpgrade, WsChannel } from './ws-channel.js';

export interface WebSocketServerOptions {
  readonly server: Server;
  readonly logger: Logger;
  /** Adapters by WebSocket subprotocol, in order of preference when a client offers several. */
  readonly protocols: ReadonlyMap<string, ProtocolAdapter>;
  readonly path: string;
  /**
   * Further paths, served without a subprotocol (the old system's `/ws/...` endpoints): the adapter for
   * an upgrade URL, or undefined when the path is not one (404).
   */
  readonly routes?: (url: URL) => ProtocolAdapter | undefined;
  readonly allowedOrigins: readonly string[] | undefined;
  readonly trustedProxies: readonly string[];
  readonly maxPayloadBytes: number;
  readonly sendBufferBytes: number;
  readonly heartbeatIntervalMs: number;
}

export interface WebSocketTransport {
  /** Sockets open now (not closing) on this instance. */
  readonly openSockets: number;
  /** The largest outgoing buffer of any socket now (bounded by WS_SEND_BUFFER_BYTES). */
  readonly maxBufferedBytes: number;
  /** Stops accepting, closes every socket with 1001 and waits (bounded) for their close handshakes. */
  dispose(): Promise<void>;
}

/**
 * WebSockets on the HTTP server's `/graphql`: the upgrade (path, Origin, subprotocol), the `ws` socket
 * and its limits (payload size, outgoing buffer, keep-alive ping), and one protocol session per socket
 * chosen by subprotocol (or, on the extra `routes`, by path). Sessions see a SocketChannel only.
 */
export function attachWebSockets(options: WebSocketServerOptions): WebSocketTransport {
  const { logger } = options;
  const sessions = new Map<WebSocket, ProtocolSession>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    handleProtocols: (offered) => {
      for (const protocol of options.protocols.keys()) if (offered.has(protocol)) return protocol;
      return false;
    },
  });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const routed = url.pathname === options.path ? undefined : options.routes?.(url);
    if (url.pathname !== options.path && !routed) return rejectUpgrade(socket, 404, 'Not Found');
    if (!isOriginAllowed(request.headers.origin, options.allowedOrigins)) {
      logger.info({ origin: request.headers.origin }, 'websocket origin rejected');
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    // Emitted as `connection` (keep-alive attaches its pong handler there).
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request, routed));
  };
  wss.on('connection', (ws: WebSocket, request: IncomingMessage, routed?: ProtocolAdapter) => opened(ws, request, routed));
  options.server.on('upgrade', onUpgrade);

  wss.on('error', (error) => {
    logger.error({ err: error }, 'websocket server error');
    for (const socket of wss.clients) socket.close(ProtocolCloseCode.InternalServerError, 'Internal server error');
  });

  const debug = logger.isLevelEnabled('debug');

  // One set of socket listeners for every socket (`this` is the socket): no closures per connection.
  // A frame `ws` rejects (too big: 1009, malformed: 1002) is the client's fault, and `ws` has already
  // started the close with the right code; only a socket-level failure is worth more than a debug line.
  function onError(this: WebSocket, error: Error & { code?: string }): void {
    if (error.code?.startsWith('WS_ERR_')) logger.debug({ err: error }, 'websocket protocol error from client');
    else logger.warn({ err: error }, 'websocket socket error');
  }
  function onMessage(this: WebSocket, data: RawData): void {
    const text = String(data);
    if (debug) logger.debug({ frame: redactFrame(text) }, 'ws <-');
    sessions.get(this)?.received(text);
  }
  function onClose(this: WebSocket, code: number, reason: Buffer): void {
    const session = sessions.get(this);
    sessions.delete(this);
    session?.closed(code, String(reason));
  }

  function opened(ws: WebSocket, request: IncomingMessage, routed: ProtocolAdapter | undefined): void {
    ws.on('error', onError);
    const adapter = routed ?? options.protocols.get(ws.protocol);
    if (!adapter) {
      ws.close(ProtocolCloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    const upgrade = new SocketUpgrade(clientAddress(request, options.trustedProxies), request.headers['user-agent'] ?? null, request.url ?? '/');
    // Every frame goes through the channel: a client that stops reading is closed with 4413 there.
    const session = adapter(new WsChannel(ws, upgrade, options.sendBufferBytes, logger));
    sessions.set(ws, session);
    ws.on('message', onMessage);
    ws.on('close', onClose);
  }

  const stopKeepAlive = startKeepAlive(wss, options.heartbeatIntervalMs, (socket) => sessions.get(socket)?.heard());

  return {
    get openSockets() {
      let open = 0;
      for (const ws of wss.clients) if (ws.readyState === ws.OPEN) open++;
      return open;
    },
    get maxBufferedBytes() {
      let max = 0;
      for (const ws of wss.clients) max = Math.max(max, ws.bufferedAmount);
      return max;
    },
    async dispose() {
      options.server.off('upgrade', onUpgrade);
      stopKeepAlive();
      const closed = [...wss.clients].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      for (const ws of wss.clients) ws.close(CloseCode.GoingAway, 'Server shutting down');
      // Wait (bounded) for close handshakes so records are finalised before the process exits.
      await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 3000).unref())]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function redactFrame(frame: string): string {
  return frame.replace(/("(?:authorization|Authorization|token|password|refreshToken)"\s*:\s*)"[^"]*"/g, '$1"[redacted]"');
}
