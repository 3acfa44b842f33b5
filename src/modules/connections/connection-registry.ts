import type { Logger } from 'pino';
import type { OperationTypeNode } from 'graphql';
import type { Config } from '../../shared/config.js';
import type { PrismaClient } from '../../data/db.js';
import type { HeraldMetrics } from '../../metrics/metrics.js';
import type { ConnectionLifecycle, SocketState } from '../../transport/ws/websocket-transport.js';
import { CloseCode } from '../../shared/close-codes.js';
import type { ConnectionEvents } from './connection-events.js';
import type { RedisClient } from '../../realtime/redis-connection.js';
import { ConnectionRecords } from './connection-records.js';
import { MemoryConnectionSlots, RedisConnectionSlots, type ConnectionSlots } from './connection-slots.js';
import { MemoryInstanceStats, RedisInstanceStats, TOP_USERS_PER_INSTANCE, mergeSnapshots, type ConnectionStats, type InstanceSnapshot, type InstanceStatsStore } from './instance-stats.js';
import { OperationRate, tooManyOperations, tooManySubscriptions } from './operation-limits.js';

const SNAPSHOT_INTERVAL_MS = 1_000;

export interface ConnectionManagerDeps {
  readonly config: Config;
  readonly db: PrismaClient;
  /** Shared state (slots, instance snapshots) when Redis is configured; in memory otherwise. */
  readonly redis: RedisClient | null;
  readonly logger: Logger;
  readonly connectionEvents: ConnectionEvents;
  readonly metrics?: HeraldMetrics;
}

interface LiveConnection {
  readonly state: SocketState;
  readonly userId: string | null;
  readonly rate: OperationRate;
  /** Running subscriptions: operation id → root field. */
  readonly subscriptions: Map<string, string>;
  /** The record insert; closing waits for it so a fast close never leaves a row open. */
  opening: Promise<void>;
}

/** What `opening` becomes once the insert is done, so no connection keeps a settled promise of its own. */
const OPENED: Promise<void> = Promise.resolve();

/**
 * Owns this instance's WebSocket connections: records, the per-user cap (across instances through
 * Redis), idle timeout, per-connection operation limits, metrics, and the snapshot behind
 * `connectionStats`. Implements the transport's ConnectionLifecycle.
 */
export class ConnectionManager {
  private readonly live = new Map<string, LiveConnection>();
  private readonly records: ConnectionRecords | null;
  private readonly slots: ConnectionSlots;
  private readonly stats: InstanceStatsStore;
  private readonly finalising = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private snapshotTimer: NodeJS.Timeout | null = null;
  private lastHeartbeatAt = 0;
  private shuttingDown = false;
  private stopped = false;

  constructor(private readonly deps: ConnectionManagerDeps) {
    const { config, redis } = deps;
    // Slots and snapshots outlive three missed heartbeats at most, then free themselves.
    const ttlMs = Math.max(3 * config.ws.heartbeatIntervalMs, 15_000);
    this.records = config.ws.trackConnections ? new ConnectionRecords(deps.db, deps.logger) : null;
    this.slots = redis ? new RedisConnectionSlots(redis, config.redisPrefix, ttlMs) : new MemoryConnectionSlots(ttlMs);
    this.stats = redis ? new RedisInstanceStats(redis, config.redisPrefix, ttlMs) : new MemoryInstanceStats();
    const heartbeat = setInterval(() => void this.heartbeat(), config.ws.heartbeatIntervalMs);
    const sweepEveryMs = Math.min(Math.max(Math.floor(config.ws.connectionTimeoutMs / 4), 50), 5_000);
    const sweep = setInterval(() => this.closeIdle(), sweepEveryMs);
    for (const timer of [heartbeat, sweep]) {
      timer.unref();
      this.timers.push(timer);
    }
    this.scheduleSnapshot();
  }

  /** The hooks the WebSocket transport calls. */
  readonly lifecycle: ConnectionLifecycle = {
    admit: (state) => this.admit(state),
    opened: (state) => this.opened(state),
    closed: (state, code, reason) => this.closed(state, code, reason),
    operationStarted: (state, id, field, kind) => this.operationStarted(state, id, field, kind),
    operationEnded: (state, id) => this.operationEnded(state, id),
    refused: (code, reason) => this.refused(code, reason),
  };

  /** `connectionStats`: every live instance's snapshot, this instance's taken now. */
  async connectionStats(topUsers = 10): Promise<ConnectionStats> {
    const stored = await this.stats.all().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, 'reading instance snapshots failed; reporting this instance only');
      return [];
    });
    return mergeSnapshots(stored, this.snapshot(), topUsers);
  }

  /** Call before the transport closes its sockets: every close from now on is recorded as 1001. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Finalises every record still open (closeCode 1001), waits for writes, withdraws the snapshot. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.shuttingDown = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    for (const live of [...this.live.values()]) void this.closed(live.state, CloseCode.GoingAway, 'Server shutting down');
    while (this.finalising.size > 0) await Promise.allSettled([...this.finalising]);
    await this.records?.settle();
    await this.stats.remove(this.deps.config.instanceId).catch(() => undefined);
  }

  private async admit(state: SocketState): Promise<{ code: number; reason: string } | null> {
    const userId = state.viewer?.id;
    if (!userId) return null;
    const max = this.deps.config.ws.maxConnectionsPerUser;
    let admitted: boolean;
    try {
      admitted = await this.slots.acquire(userId, state.id, max);
    } catch (error) {
      // Shared state unreachable: admit rather than lock every user out.
      this.deps.logger.warn({ err: error }, 'connection slot check failed; admitting');
      return null;
    }
    if (!admitted) {
      this.deps.metrics?.closes.inc({ code: String(CloseCode.TooManyConnections) });
      this.deps.logger.info({ userId, max }, 'websocket refused: per-user connection cap');
      return { code: CloseCode.TooManyConnections, reason: `Too many connections: at most ${max} per user` };
    }
    return null;
  }

  private async opened(state: SocketState): Promise<void> {
    const now = Date.now();
    // Activity (messages, pongs) is stamped on `state.lastActivityAt` by the transport: no listener per socket here.
    const live: LiveConnection = {
      state,
      userId: state.viewer?.id ?? null,
      rate: new OperationRate(this.deps.config.ws.maxOperationsPerSecond, now),
      subscriptions: new Map(),
      opening: OPENED,
    };
    this.live.set(state.id, live);
    this.deps.metrics?.openConnections.inc();
    this.deps.metrics?.connectionsOpened.inc();
    this.scheduleSnapshot();
    if (this.records) {
      live.opening = this.records.opened({
        id: state.id,
        userId: live.userId,
        instanceId: this.deps.config.instanceId,
        ip: state.origin.ip,
        userAgent: state.origin.userAgent?.slice(0, 512) ?? null,
        connectedAt: new Date(state.openedAt),
      });
    }
    await Promise.all([live.opening, this.deps.connectionEvents.emitOpened({ connectionId: state.id, viewer: state.viewer })]);
    live.opening = OPENED;
  }

  private async closed(state: SocketState, code: number, reason: string): Promise<void> {
    const live = this.live.get(state.id);
    if (!live) {
      // Admitted, but the socket went before `opened` ran: only the slot needs freeing.
      if (state.viewer) await this.slots.release(state.viewer.id, state.id).catch(() => undefined);
      return;
    }
    this.live.delete(state.id);
    const recordedCode = this.shuttingDown ? CloseCode.GoingAway : code;
    const recordedReason = this.shuttingDown ? 'Server shutting down' : reason;
    const done = this.finalise(live, recordedCode, recordedReason);
    this.finalising.add(done);
    try {
      await done;
    } finally {
      this.finalising.delete(done);
    }
  }

  private async finalise(live: LiveConnection, code: number, reason: string): Promise<void> {
    const { metrics, logger } = this.deps;
    metrics?.openConnections.dec();
    metrics?.closes.inc({ code: String(code) });
    if (code === CloseCode.Forbidden) metrics?.authFailures.inc({ reason: 'expired_or_revoked' });
    for (const field of live.subscriptions.values()) metrics?.activeSubscriptions.dec({ field });
    live.subscriptions.clear();
    this.scheduleSnapshot();
    const slot = live.userId ? this.slots.release(live.userId, live.state.id).catch((error: unknown) => logger.warn({ err: error }, 'releasing connection slot failed')) : null;
    await live.opening;
    await Promise.all([
      slot,
      this.records?.closed(live.state.id, code, reason, lastHeardFrom(live.state)),
      this.deps.connectionEvents.emitClosed({ connectionId: live.state.id, viewer: live.state.viewer }),
    ]);
  }

  private operationStarted(state: SocketState, id: string, field: string, kind?: OperationTypeNode) {
    const live = this.live.get(state.id);
    if (!live) return null;
    const { config, metrics } = this.deps;
    const waitMs = live.rate.take();
    if (waitMs > 0) {
      metrics?.operationsRejected.inc({ limit: 'operationsPerSecond' });
      return tooManyOperations(waitMs, config.ws.maxOperationsPerSecond);
    }
    if (kind !== 'subscription') return null;
    if (live.subscriptions.size >= config.ws.maxSubscriptionsPerConnection) {
      metrics?.operationsRejected.inc({ limit: 'subscriptionsPerConnection' });
      return tooManySubscriptions(config.ws.maxSubscriptionsPerConnection);
    }
    live.subscriptions.set(id, field);
    metrics?.activeSubscriptions.inc({ field });
    this.scheduleSnapshot();
    return null;
  }

  private operationEnded(state: SocketState, id: string): void {
    const live = this.live.get(state.id);
    const field = live?.subscriptions.get(id);
    if (!live || field === undefined) return;
    live.subscriptions.delete(id);
    this.deps.metrics?.activeSubscriptions.dec({ field });
    this.scheduleSnapshot();
  }

  private refused(code: number, reason: string): void {
    this.deps.metrics?.closes.inc({ code: String(code) });
    if (code === CloseCode.Forbidden) this.deps.metrics?.authFailures.inc({ reason: 'invalid_token' });
    this.deps.logger.debug({ code, reason }, 'websocket refused');
  }

  /** Closes connections silent (no message, no pong) for WS_CONNECTION_TIMEOUT; `closed` finalises them. */
  private closeIdle(): void {
    const limit = Date.now() - this.deps.config.ws.connectionTimeoutMs;
    for (const live of this.live.values()) {
      if (live.state.lastActivityAt < limit && live.state.socket.readyState === live.state.socket.OPEN) {
        live.state.socket.close(CloseCode.IdleTimeout, 'Idle timeout');
      }
    }
  }

  /** Keeps this instance's slots and snapshot alive, and writes the lastSeenAt values of connections active since the last one. */
  private async heartbeat(): Promise<void> {
    const since = this.lastHeartbeatAt;
    this.lastHeartbeatAt = Date.now();
    const owned: { userId: string; connectionId: string }[] = [];
    const seen: string[] = [];
    let newest = 0;
    for (const { state, userId } of this.live.values()) {
      if (userId !== null) owned.push({ userId, connectionId: state.id });
      const heard = lastHeardFrom(state);
      if (heard !== null && heard > since) {
        seen.push(state.id);
        newest = Math.max(newest, heard);
      }
    }
    await Promise.all([
      this.slots.refresh(owned).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'refreshing connection slots failed')),
      this.records?.markSeen(seen, newest),
      this.publishSnapshot(),
    ]);
  }

  /**
   * Publishes the snapshot shortly after a change, at most once a second: it walks every live
   * connection, and clients that re-subscribe often would otherwise make that a steady cost.
   * `connectionStats` takes this instance's own snapshot fresh; only other instances see it late.
   */
  private scheduleSnapshot(): void {
    if (this.snapshotTimer || this.stopped) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      void this.publishSnapshot();
    }, SNAPSHOT_INTERVAL_MS);
    this.snapshotTimer.unref();
  }

  private async publishSnapshot(): Promise<void> {
    if (this.stopped) return;
    await this.stats.put(this.snapshot()).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'publishing connection snapshot failed'));
  }

  private snapshot(): InstanceSnapshot {
    const users = new Map<string, number>();
    const subscriptions: Record<string, number> = {};
    for (const live of this.live.values()) {
      if (live.userId) users.set(live.userId, (users.get(live.userId) ?? 0) + 1);
      for (const field of live.subscriptions.values()) subscriptions[field] = (subscriptions[field] ?? 0) + 1;
    }
    const top = [...users].sort((a, b) => b[1] - a[1]).slice(0, TOP_USERS_PER_INSTANCE);
    return {
      instanceId: this.deps.config.instanceId,
      connections: this.live.size,
      users: Object.fromEntries(top),
      subscriptions,
      updatedAt: new Date().toISOString(),
    };
  }
}

/** When the client was last heard from (a message or a pong), null when never since it connected. */
function lastHeardFrom(state: SocketState): number | null {
  return state.lastActivityAt > state.openedAt ? state.lastActivityAt : null;
}
