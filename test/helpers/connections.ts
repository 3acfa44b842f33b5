import WebSocket from 'ws';
import type { TestApp } from './test-app.js';
import { bearer, connectWs, type WsHandle } from './clients.js';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rejects when `promise` has not settled within `ms` (so a missing close fails the test, not hangs it). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

/** Resolves once the socket is acknowledged (`connected`), or rejects with its close code if it closes first. */
export function acknowledged(ws: WsHandle, timeoutMs = 5000): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      ws.client.on('connected', () => resolve());
      void ws.closed.then((event) => reject(new Error(`closed with ${event.code} ${event.reason}`)));
    }),
    timeoutMs,
    'connection_ack',
  );
}

/** Opens a graphql-ws connection with this token and waits for its acknowledgement. */
export async function openAcknowledged(app: Pick<TestApp, 'wsUrl'>, token: string): Promise<WsHandle> {
  const ws = connectWs(app, bearer(token));
  await acknowledged(ws);
  return ws;
}

export interface RawSocket {
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** A bare `ws` socket speaking graphql-transport-ws, for what the graphql-ws client cannot do (huge frames, no init). */
export function rawSocket(app: Pick<TestApp, 'wsUrl'>, headers: Record<string, string> = {}): RawSocket {
  const socket = new WebSocket(app.wsUrl, 'graphql-transport-ws', { headers });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.on('error', () => undefined);
  return { socket, closed };
}

/** The HTTP status with which the server refused (or 101 accepted) a WebSocket upgrade. */
export function upgradeStatus(app: Pick<TestApp, 'wsUrl'>, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(app.wsUrl, 'graphql-transport-ws', { headers });
    socket.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('open', () => {
      resolve(101);
      socket.close();
    });
    socket.on('error', (error) => reject(error));
  });
}
