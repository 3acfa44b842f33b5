import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Pings every socket of `wss` each `intervalMs` from one timer, and terminates a socket that has not
 * answered the previous ping. graphql-ws's own keep-alive holds an interval and a timeout per socket
 * (a few hundred bytes each, 10,000 sockets deep); this holds one timer and one shared pong handler,
 * which also reports each pong to `answered` (activity tracking).
 */
export function startKeepAlive(wss: WebSocketServer, intervalMs: number, answered?: (socket: WebSocket) => void): () => void {
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) return () => undefined;
  const awaitingPong = new WeakSet<WebSocket>();
  function onPong(this: WebSocket): void {
    awaitingPong.delete(this);
    answered?.(this);
  }
  const onConnection = (socket: WebSocket) => socket.on('pong', onPong);
  wss.on('connection', onConnection);
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (socket.readyState !== socket.OPEN) continue;
      if (awaitingPong.has(socket)) {
        socket.terminate();
        continue;
      }
      awaitingPong.add(socket);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    wss.off('connection', onConnection);
  };
}
