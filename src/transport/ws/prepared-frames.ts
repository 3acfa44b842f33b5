import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Writes a text frame made of a small per-socket head and a payload part shared by many sockets, around
 * `ws`'s Sender (the one file that knows ws's internals). A subscription's frames differ between its
 * subscribers only in the operation id, so the shared part (`"type":"next","payload":<json>}`) is encoded
 * once per result and the same bytes go to every socket; each socket gets a few bytes of its own: the
 * WebSocket frame header and `{"id":"<id>",`. A small frame leaves as one buffer in one plain write (one
 * write syscall; copying a few hundred shared bytes costs less than Node's corked-writev bookkeeping for
 * two chunks); a large one as the head and the shared bytes themselves, in one corked write (one writev).
 */

/** What this file reads of a `ws` WebSocket (ws 8; not in its public types). */
interface WsInternals {
  readonly _socket: Socket | null;
  readonly _sender: { readonly _state: number; readonly _queue: readonly unknown[] };
  readonly _extensions: Readonly<Record<string, unknown>>;
}

/** ws's Sender state when it holds nothing back (lib/sender.js `DEFAULT`). */
const SENDER_IDLE = 0;

/**
 * Up to this many bytes a frame is written as one copied buffer: Node hands out buffers this small from its
 * pool (`Buffer.poolSize / 2`), so the copy costs no allocation of its own.
 */
const COPIED_FRAME_MAX_BYTES = 4096;

/**
 * The frame header (FIN, text, unmasked as every server frame) for a payload of `head` + `sharedLength`
 * bytes, followed by `head`'s bytes and `room` more bytes left for the caller to fill.
 */
export function frameHead(head: string, sharedLength: number, room = 0): Buffer {
  const headLength = Buffer.byteLength(head);
  const length = headLength + sharedLength;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + headLength + room);
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

/** The whole frame for `head` + `shared` as one buffer (the shared bytes copied in). */
export function wholeFrame(head: string, shared: Buffer): Buffer {
  const out = frameHead(head, shared.length, shared.length);
  shared.copy(out, out.length - shared.length);
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
  // Each frame reaches the kernel as it is written, not at the turn's end: with thousands of sockets per
  // event, the first subscribers read while the last are being written.
  // (10: the largest frame header; an id's UTF-16 length is near enough its byte length for this choice.)
  if (head.length + shared.length + 10 <= COPIED_FRAME_MAX_BYTES) {
    socket.write(wholeFrame(head, shared), done);
    return;
  }
  socket.cork();
  socket.write(frameHead(head, shared.length));
  socket.write(shared, done);
  socket.uncork();
}
