import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { CloseCode } from '../../shared/close-codes.js';
import { SLOW_CONSUMER_CODE } from '../../graphql/mask-error.js';

/**
 * Bounds what one socket may hold in its outgoing buffer. `ws` buffers every `send` in memory while the
 * peer does not read (its TCP window is full), so a client that stops reading would grow the server
 * without limit. Once `bufferedAmount` passes `limitBytes`, the socket is closed with 4413
 * (SlowConsumer) and further frames are dropped instead of buffered. The per-subscriber EventStream
 * bounds the queue before the send; this bounds the bytes after it.
 */
export function guardSendBuffer(socket: WebSocket, limitBytes: number, logger: Logger): void {
  // The prototype's method called on the socket, not a bound copy: one function fewer per socket.
  const send = socket.send as (this: WebSocket, data: unknown, options?: unknown, callback?: unknown) => void;
  let tripped = false;
  // Fixed parameters, not a rest array: this runs once per frame sent.
  const guarded = (data: unknown, options?: unknown, callback?: unknown): void => {
    if (!tripped && socket.bufferedAmount > limitBytes) {
      tripped = true;
      logger.info({ bufferedAmount: socket.bufferedAmount, limitBytes }, 'closing slow consumer');
      socket.close(CloseCode.SlowConsumer, 'Slow consumer: outgoing buffer full');
    }
    if (tripped) {
      // Report success to the caller (graphql-ws awaits it); the frame is dropped, the socket is closing.
      const done = typeof options === 'function' ? options : callback;
      if (typeof done === 'function') (done as (error?: Error) => void)();
      return;
    }
    send.call(socket, data, options, callback);
  };
  (socket as unknown as { send: typeof guarded }).send = guarded;
}

/**
 * True for the error a 'fail' EventStream ends with on overflow: coded by maskError when it passed
 * Yoga's masking, or wrapped by graphql-ws (originalError) when it did not. Duck-typed (dual package).
 */
export function isSlowConsumerError(error: { readonly extensions?: Readonly<Record<string, unknown>>; readonly originalError?: unknown }): boolean {
  const original = error.originalError as { name?: unknown; extensions?: Record<string, unknown> } | undefined;
  return error.extensions?.code === SLOW_CONSUMER_CODE || original?.name === 'SlowConsumerError' || original?.extensions?.code === SLOW_CONSUMER_CODE;
}
