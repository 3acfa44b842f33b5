import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Writes a text frame made of a small per-socket head and a payload part shared by many sockets, around
 * `ws`'s Sender (the one file that knows ws's internals). A subscription's frames differ between its
 * subscribers only in the operation id, so the shared part (`"type":"next","payload":<json>}`) is encoded
 * once per result and the same bytes go to every socket; each socket gets a few bytes of its own: the
 * WebSocket frame header and `{"id":"<id>",`. Nothing is copied per socket, and the writes of one turn
 * leave in one syscall per socket (the socket stays corked until the turn ends).
 */

/** What this file reads of a `ws` WebSocket (ws 8; not in its public types). */
interface WsInternals {
  readonly _socket: Socket | null;
  readonly _sender: { readonly _state: number; readonly _queue: readonly unknown[] };
  readonly _extensions: Readonly<Record<string, unknown>>;
}

/** Corked bytes past which a socket's turn is written at once rather than at the turn's end. */
const FLUSH_BYTES = 16 * 1024;

/** ws's Sender state when it holds nothing back (lib/sender.js `DEFAULT`). */
const SENDER_IDLE = 0;

/**
 * The frame header (FIN, text, unmasked as every server frame) for a payload of `head` + `sharedLength`
 * bytes, followed by `head`'s bytes: everything of the frame but the shared part.
 */
export function frameHead(head: string, sharedLength: number): Buffer {
  const headLength = Buffer.byteLength(head);
  const length = headLength + sharedLength;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + headLength);
  out[0] = 0x81;
  if (length < 126) {
    out[1] = length;
  } else if (length < 65536) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  out.write(head, headerLength, 'utf8');
  return out;
}

/**
 * Sends `head` + `shared` as one text frame on an open socket; `done` runs once the bytes are flushed
 * (or the write failed). Written straight to the TCP socket only while ws's Sender holds nothing back
 * (it queues frames only while compressing or reading a Blob): each write is a whole frame, so ws's own
 * frames (ping, pong, close) come before or after it, never inside. Otherwise it goes through ws's queue.
 */
export function sendFrameParts(ws: WebSocket, head: string, shared: Buffer, done?: () => void): void {
  const internals = ws as unknown as WsInternals;
  const socket = internals._socket;
  const sender = internals._sender;
  if (!socket || sender._state !== SENDER_IDLE || sender._queue.length > 0 || internals._extensions['permessage-deflate'] !== undefined) {
    ws.send(Buffer.concat([Buffer.from(head), shared]), { binary: false }, done);
    return;
  }
  corkForTurn(socket);
  socket.write(frameHead(head, shared.length));
  socket.write(shared, done);
  // Corked bytes count in bufferedAmount: hand a big turn to the kernel now, so a burst to a client that
  // reads is never mistaken for a slow consumer (WS_SEND_BUFFER_BYTES) and memory is not held to the turn's end.
  if (socket.writableCorked > 0 && socket.writableLength >= FLUSH_BYTES) socket.uncork();
}

/** Sockets corked during this turn, uncorked together when it ends (one writev each). */
const corked: Socket[] = [];

function uncorkAll(): void {
  // A socket flushed early (FLUSH_BYTES) and corked again this turn is listed twice: uncork is then a no-op.
  for (let i = 0; i < corked.length; i++) if (corked[i]!.writableCorked > 0) corked[i]!.uncork();
  corked.length = 0;
}

function corkForTurn(socket: Socket): void {
  // Corked already: by this turn's earlier frame (ws's own cork is taken and released within one call).
  if (socket.writableCorked > 0) return;
  socket.cork();
  if (corked.push(socket) === 1) process.nextTick(uncorkAll);
}
