import type { SocketChannel } from './socket-channel.js';

const KA_FRAME = '{"type":"ka"}';

/**
 * The legacy client's own timeout: with no `ka` for this long after the previous one it drops the socket
 * and reconnects (subscriptions-transport-ws's `timeout` option, 30 s by default).
 */
const LEGACY_CLIENT_TIMEOUT_MS = 30_000;

/**
 * How often legacy sockets get a `ka`: every WS_HEARTBEAT_INTERVAL, but at least twice within the legacy
 * client's default timeout, so one late `ka` (a busy event loop) does not make every client reconnect.
 */
export function legacyKeepAliveInterval(heartbeatIntervalMs: number): number {
  return Math.min(heartbeatIntervalMs, LEGACY_CLIENT_TIMEOUT_MS / 2);
}

/**
 * Sends `{"type":"ka"}` to every acknowledged legacy socket from one timer (not one per socket), which
 * runs only while some socket is registered. The server's WebSocket ping keeps running beside it: it is
 * what detects a dead peer; `ka` is what the legacy client itself listens for.
 */
export class LegacyKeepAlive {
  private readonly channels = new Set<SocketChannel>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  /** Sends the first `ka` now (the client starts its timeout on it) and registers the socket. */
  add(channel: SocketChannel): void {
    if (!(this.intervalMs > 0) || !Number.isFinite(this.intervalMs)) return;
    channel.send(KA_FRAME);
    this.channels.add(channel);
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const each of this.channels) each.send(KA_FRAME);
    }, this.intervalMs);
    this.timer.unref();
  }

  delete(channel: SocketChannel): void {
    if (!this.channels.delete(channel) || this.channels.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}
