import WebSocket from 'ws';

/**
 * A graphql-ws client at the frame level (no library), for tests that misbehave on purpose: stop
 * reading, send garbage, skip the handshake. Frames received are kept in `frames`.
 */
export class RawSocket {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners: (() => void)[] = [];

  constructor(url: string, protocol: string | string[] = 'graphql-transport-ws') {
    this.ws = new WebSocket(url, protocol);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data) => {
      try {
        this.frames.push(JSON.parse(String(data)) as Record<string, unknown>);
      } catch {
        this.frames.push({ type: '<unparsable>' });
      }
      for (const listener of this.listeners.splice(0)) listener();
    });
  }

  send(frame: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Waits (bounded) for a frame matching `predicate`, including ones already received. */
  async waitFor(predicate: (frame: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Opens, sends connection_init and waits for connection_ack. */
  async init(payload: Record<string, unknown> = {}): Promise<void> {
    await this.opened;
    this.send({ type: 'connection_init', payload });
    await this.waitFor((f) => f.type === 'connection_ack');
  }

  /** Stops reading from the TCP socket: the kernel buffers fill, then the server's `bufferedAmount` grows. */
  pauseReading(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resumeReading(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  terminate(): void {
    this.ws.terminate();
  }
}
