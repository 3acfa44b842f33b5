import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { CloseCode } from '../../shared/close-codes.js';
import { sendFrameParts } from './prepared-frames.js';
import type { SocketChannel, UpgradeInfo } from './socket-channel.js';

/**
 * What the upgrade request told, kept for the socket's life: the request path as its string, parsed into a
 * URL only when read (at `connection_init`, for `?token=`): a URL object is ~270 bytes per socket.
 */
export class SocketUpgrade implements UpgradeInfo {
  constructor(
    readonly ip: string | null,
    readonly userAgent: string | null,
    private readonly path: string,
  ) {}

  get url(): URL {
    return new URL(this.path, 'http://localhost');
  }
}

/** Below this many unsent bytes a frame counts as written at once; above it the writer waits for the flush. */
const BACKPRESSURE_BYTES = 16 * 1024;

/**
 * A SocketChannel bound to a `ws` socket: text frames (whole, or as a head and a shared part), backpressure,
 * close, and the bound on what one socket may hold in its outgoing buffer. `ws` buffers every write in
 * memory while the peer does not read (its TCP window is full), so a client that stops reading would
 * grow the server without limit: once `bufferedAmount` passes `limitBytes`, the socket is closed with
 * 4413 (SlowConsumer) and further frames are dropped instead of buffered. The per-subscriber EventStream
 * bounds the queue before the send; this bounds the bytes after it. A class: its methods are shared by
 * every socket, not closures of each.
 */
export class WsChannel implements SocketChannel {
  constructor(
    private readonly ws: WebSocket,
    readonly upgrade: UpgradeInfo,
    private readonly limitBytes: number,
    private readonly logger: Logger,
  ) {}

  send(frame: string): PromiseLike<void> | undefined {
    if (!this.admits()) return undefined;
    const ws = this.ws;
    if (ws.bufferedAmount < BACKPRESSURE_BYTES) {
      ws.send(frame);
      return undefined;
    }
    return new Promise<void>((resolve) => ws.send(frame, () => resolve()));
  }

  sendParts(head: string, shared: Buffer): PromiseLike<void> | undefined {
    if (!this.admits()) return undefined;
    const ws = this.ws;
    if (ws.bufferedAmount < BACKPRESSURE_BYTES) {
      sendFrameParts(ws, head, shared);
      return undefined;
    }
    return new Promise<void>((resolve) => sendFrameParts(ws, head, shared, () => resolve()));
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** True when a frame may be written now; a socket over its buffer bound is closed (4413) instead. */
  private admits(): boolean {
    const ws = this.ws;
    // Closing (by either side, or tripped below): frames are dropped.
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount > this.limitBytes) {
      this.logger.info({ bufferedAmount: ws.bufferedAmount, limitBytes: this.limitBytes }, 'closing slow consumer');
      ws.close(CloseCode.SlowConsumer, 'Slow consumer: outgoing buffer full');
      return false;
    }
    return true;
  }
}
