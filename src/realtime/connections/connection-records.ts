import type { Logger } from 'pino';
import type { PrismaClient } from '../../data/db.js';
import { WriteBatcher } from '../../util/write-batcher.js';

export interface OpenedConnection {
  readonly id: string;
  readonly userId: string | null;
  readonly instanceId: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly connectedAt: Date;
}

/**
 * The WebSocketConnection rows: written when a connection opens, finalised (closedAt, closeCode,
 * closeReason) when it closes. `lastSeenAt` is not written per message: activity marks the connection
 * and `flushLastSeen()` (called on each heartbeat) writes every touched row in one statement.
 */
export class ConnectionRecords {
  private readonly touched = new Map<string, number>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Connections opened in one event-loop turn are inserted together (reconnect storms). */
  private readonly inserts: WriteBatcher<OpenedConnection>;

  constructor(
    private readonly db: PrismaClient,
    private readonly logger: Logger,
  ) {
    this.inserts = new WriteBatcher((rows) =>
      this.db.webSocketConnection.createMany({ data: rows.map((row) => ({ ...row, lastSeenAt: row.connectedAt })) }),
    );
  }

  async opened(connection: OpenedConnection): Promise<void> {
    await this.track(this.inserts.add(connection));
  }

  /** Remembers activity; the row is updated on the next flush. */
  touch(connectionId: string, at = Date.now()): void {
    this.touched.set(connectionId, at);
  }

  async closed(connectionId: string, code: number, reason: string, at = new Date()): Promise<void> {
    const lastSeen = this.touched.get(connectionId);
    this.touched.delete(connectionId);
    await this.track(
      this.db.webSocketConnection.updateMany({
        where: { id: connectionId, closedAt: null },
        data: { closedAt: at, closeCode: code, closeReason: reason.slice(0, 255), ...(lastSeen ? { lastSeenAt: new Date(lastSeen) } : {}) },
      }),
    );
  }

  /** Writes the batched lastSeenAt values: one UPDATE for all connections seen at the same instant bucket. */
  async flushLastSeen(): Promise<void> {
    if (this.touched.size === 0) return;
    const batch = [...this.touched];
    this.touched.clear();
    // Every row gets the newest time of the batch's second: precise enough for "last seen", one statement.
    // A loop, not Math.max(...spread): spreading one argument per connection overflows the stack at ~10^5.
    let newest = 0;
    for (const [, t] of batch) if (t > newest) newest = t;
    const at = new Date(newest);
    await this.track(
      this.db.webSocketConnection.updateMany({
        where: { id: { in: batch.map(([id]) => id) }, closedAt: null },
        data: { lastSeenAt: at },
      }),
    );
  }

  /** Waits for every write in flight (shutdown calls this before the database disconnects). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async track<T>(write: Promise<T>): Promise<void> {
    const promise = write.then(
      () => undefined,
      (error: unknown) => this.logger.warn({ err: error }, 'connection record write failed'),
    );
    this.pending.add(promise);
    try {
      await promise;
    } finally {
      this.pending.delete(promise);
    }
  }
}
