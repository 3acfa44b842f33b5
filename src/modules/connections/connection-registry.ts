import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CloseCode } from '../../shared/close-codes.js';
import type { RequestOrigin } from '../../shared/request-origin.js';
import type { HeraldMetrics } from '../../metrics/metrics.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import type { Viewer } from '../auth/viewer.js';
import { Connection, ConnectionOperation, type ConnectionLink, type ConnectionProtocol } from './connection.js';
import { ConnectionEvents } from './connection-events.js';
import type { ConnectionRecords } from './connection-records.js';
import type { ConnectionSlots } from './connection-slots.store.js';
import type { InstanceStatsStore } from './instance-stats.store.js';
import { mergeSnapshots, TOP_USERS_PER_INSTANCE, type ConnectionStats, type InstanceSnapshot } from './instance-stats.js';
import { OperationRate, tooManyOperations, tooManySubscriptions, type ConnectionRefusal, type OperationRefusal } from './operation-limits.js';

/** How often the idle and token-expiry sweep runs: a socket closes within this of its deadline. */
const SWEEP_MS = 500;
/** Snapshots for `connectionStats` are published at most this often (a snapshot walks every connection). */
const SNAPSHOT_INTERVAL_MS = 1_000;

export interface ConnectionSettings {
  readonly instanceId: string;
  readonly heartbeatIntervalMs: number;
  readonly connectionTimeoutMs: number;
  readonly maxConnectionsPerUser: number;
  readonly maxSubscriptionsPerConnection: number;
  readonly maxOperationsPerSecond: number;
}

export interface ConnectionRegistryDeps {
  readonly settings: ConnectionSettings;
  /** WebSocketConnection rows; null when WS_CONNECTION_TRACKING is off. */
  readonly records: ConnectionRecords | null;
  /** The per-user cap, across instances when shared through Redis. */
  readonly slots: ConnectionSlots;
  /** Where instances leave their snapshots for `connectionStats`. */
  readonly stats: InstanceStatsStore;
  /** Revoked sessions reach every instance on a topic. */
  readonly pubsub: PubSub;
  readonly logger: Logger;
  readonly metrics?: HeraldMetrics;
}

/** What a transport knows about a socket that finished its handshake. */
export interface ConnectionRequest {
  readonly protocol: ConnectionProtocol;
  readonly origin: Omit<RequestOrigin, 'connectionId' | 'transport'>;
  /** From the socket's own token; null for an anonymous socket. */
  readonly viewer: Viewer | null;
  readonly link: ConnectionLink;
}

/** Why `begin` did not register an operation. */
export type BeginRefusal = { readonly duplicate: true } | OperationRefusal;

/**
 * Owns this instance's WebSocket connections, whatever protocol they speak: opening (the per-user cap
 * across instances), identity (a per-operation token adopted by an anonymous socket), operations (ids,
 * the per-connection rate and subscription limits), closing (idle timeout, token expiry, revoked
 * sessions), records, metrics and the snapshot behind `connectionStats`. Transports feed it through
 * these methods and hand it only a ConnectionLink per socket.
 */
export class ConnectionRegistry {
  /** Opens and closes on this instance (typing ends with its socket; analytics counts live visitors). */
  readonly events = new ConnectionEvents();
  private readonly live = new Map<string, Connection>();
  /** The record insert of each connection still in flight: closing waits for it (no row left open). */
  private readonly opening = new Map<string, Promise<void>>();
  private readonly finalising = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unlisteners: Promise<() => void>[] = [];
  private snapshotTimer: NodeJS.Timeout | null = null;
  private lastHeartbeatAt = 0;
  private shuttingDown = false;
  private started = false;
  private stopped = false;

  constructor(private readonly deps: ConnectionRegistryDeps) {}

  /** Starts the heartbeat (slots, lastSeenAt, snapshot), the idle/expiry sweep and the revocation listener. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const heartbeat = setInterval(() => void this.heartbeat(), this.deps.settings.heartbeatIntervalMs);
    const sweep = setInterval(() => this.sweep(), Math.min(SWEEP_MS, Math.max(50, Math.floor(this.deps.settings.connectionTimeoutMs / 4))));
    for (const timer of [heartbeat, sweep]) {
      timer.unref();
      this.timers.push(timer);
    }
    // Not awaited: with Redis down at start-up the SUBSCRIBE waits for it, and the server must still start.
    const revoked = this.deps.pubsub.listen(topics.sessionRevoked(), (event) => this.closeSession(event.sessionId, 'Session revoked'));
    revoked.catch((error: unknown) => this.deps.logger.error({ err: error }, 'session revocation listener failed'));
    // A role change refuses the user's older tokens: their sockets close too, so clients refresh.
    const roleChanged = this.deps.pubsub.listen(topics.userAccessRevoked(), (event) => this.closeUser(event.userId, event.revokedBefore, 'Access revoked: the account changed (its role); refresh the token'));
    roleChanged.catch((error: unknown) => this.deps.logger.error({ err: error }, 'access revocation listener failed'));
    this.unlisteners.push(revoked, roleChanged);
    this.scheduleSnapshot();
  }

  /**
   * Admits a socket that finished its handshake: takes a slot of its user's cap, writes its record and
   * tells listeners. Resolves with the connection, or with the close code and reason to refuse it.
   */
  async open(request: ConnectionRequest): Promise<Connection | ConnectionRefusal> {
    const id = randomUUID();
    if (request.viewer) {
      const refusal = await this.takeSlot(request.viewer.id, id);
      if (refusal) return refusal;
    }
    const now = Date.now();
    const sse = request.protocol === 'sse';
    // Named one by one, not spread: a spread origin got a hidden class of its own per connection (~250 bytes).
    const { ip, userAgent, clientId } = request.origin;
    const origin: RequestOrigin = { transport: sse ? 'sse' : 'ws', ip, userAgent, clientId, connectionId: id };
    const connection = new Connection(id, request.protocol, origin, request.viewer, request.link, new OperationRate(this.deps.settings.maxOperationsPerSecond, now), now);
    this.live.set(id, connection);
    this.deps.metrics?.openConnections.inc();
    this.deps.metrics?.connectionsOpened.inc();
    this.scheduleSnapshot();
    // Records are the WebSocketConnection rows; an SSE stream is counted, capped and closed like one, not recorded.
    const inserted = sse ? undefined : this.deps.records?.opened({
      id,
      userId: request.viewer?.id ?? null,
      instanceId: this.deps.settings.instanceId,
      ip: origin.ip,
      userAgent: origin.userAgent?.slice(0, 512) ?? null,
      connectedAt: new Date(now),
    });
    if (inserted) this.opening.set(id, inserted);
    await Promise.all([inserted, this.events.emitOpened({ connectionId: id, viewer: request.viewer })]);
    this.opening.delete(id);
    return connection;
  }

  /** A socket refused before it was admitted (a bad token); counted in metrics. */
  refused(code: number, reason: string): void {
    this.deps.metrics?.closes.inc({ code: String(code) });
    if (code === CloseCode.Forbidden) this.deps.metrics?.authFailures.inc({ reason: 'invalid_token' });
    this.deps.logger.debug({ code, reason }, 'websocket refused');
  }

  /**
   * An operation carried a token of its own (GraphiQL sends its Headers editor with every operation).
   * An anonymous connection adopts that identity exactly as if the socket had sent it: it takes a slot
   * of the user's cap (4008 when full), closes with 4403 when that token expires or its session is
   * revoked, and every later operation must be the same user's. A connection of another user refuses
   * it (FORBIDDEN). Resolves null when the operation may run as `viewer`.
   */
  async adopt(connection: Connection, viewer: Viewer): Promise<ConnectionRefusal | OperationRefusal | null> {
    const current = connection.viewer;
    if (current) {
      if (current.id !== viewer.id) return { error: 'This connection belongs to another user', code: 'FORBIDDEN' };
      return null;
    }
    if (!this.live.has(connection.id)) return { code: CloseCode.GoingAway, reason: 'Connection closed' };
    const refusal = await this.takeSlot(viewer.id, connection.id);
    if (refusal) return refusal;
    if (!this.live.has(connection.id)) {
      // It closed while the slot was being taken: give the slot back.
      await this.deps.slots.release(viewer.id, connection.id).catch(() => undefined);
      return { code: CloseCode.GoingAway, reason: 'Connection closed' };
    }
    // Another operation may have adopted an identity meanwhile.
    const adopted = connection.viewer as Viewer | null;
    if (adopted) {
      // The same user's slot is one entry (user, connection): only another user's must be given back.
      if (adopted.id === viewer.id) return null;
      await this.deps.slots.release(viewer.id, connection.id).catch(() => undefined);
      return { error: 'This connection belongs to another user', code: 'FORBIDDEN' };
    }
    connection.assume(viewer);
    this.scheduleSnapshot();
    await Promise.all([this.deps.records?.identified(connection.id, viewer.id), this.events.emitOpened({ connectionId: connection.id, viewer })]);
    return null;
  }

  /**
   * Hands a live connection a fresh access token of the same user (`renewConnectionToken`): from now on
   * it acts on that token, so it closes at the new `exp` (and with that token's session) instead of the
   * old one's. Another user's token, or a connection without a user, is refused and changes nothing.
   */
  renew(connection: Connection, viewer: Viewer): OperationRefusal | null {
    const current = connection.viewer;
    if (!current) return { error: 'This connection has no user to renew: send the token in connectionParams', code: 'FORBIDDEN' };
    if (current.id !== viewer.id) return { error: 'The token belongs to another user', code: 'FORBIDDEN' };
    if (!this.live.has(connection.id) || connection.closing) return { error: 'The connection is closing', code: 'FORBIDDEN' };
    connection.assume(viewer);
    return null;
  }

  /**
   * Registers an operation under `id` as soon as its message arrives, before anything is awaited, so
   * an id is one operation at a time. Refuses a busy id and an operation above the connection's rate.
   */
  begin(connection: Connection, id: string): ConnectionOperation | BeginRefusal {
    if (connection.operations.has(id)) return { duplicate: true };
    const waitMs = connection.rate.take();
    if (waitMs > 0) {
      this.deps.metrics?.operationsRejected.inc({ limit: 'operationsPerSecond' });
      return tooManyOperations(waitMs, this.deps.settings.maxOperationsPerSecond);
    }
    const operation = new ConnectionOperation(id, connection, this);
    connection.operations.set(id, operation);
    return operation;
  }

  /** The operation starts as a subscription of `field`: refused above WS_MAX_SUBSCRIPTIONS_PER_CONNECTION. */
  startSubscription(connection: Connection, operation: ConnectionOperation, field: string): OperationRefusal | null {
    if (operation.isEnded || operation.subscriptionField !== null) return null;
    const max = this.deps.settings.maxSubscriptionsPerConnection;
    if (connection.subscriptionCount >= max) {
      this.deps.metrics?.operationsRejected.inc({ limit: 'subscriptionsPerConnection' });
      return tooManySubscriptions(max);
    }
    operation.subscriptionField = field;
    this.deps.metrics?.activeSubscriptions.inc({ field });
    this.scheduleSnapshot();
    return null;
  }

  /**
   * The transport saw the socket close: every operation ends (its stream stops), the slot is freed,
   * the record finalised (1001 while shutting down) and listeners told. Resolves once written.
   */
  async closed(connection: Connection, code: number, reason: string): Promise<void> {
    if (!this.live.delete(connection.id)) return;
    for (const operation of [...connection.operations.values()]) operation.end();
    const recordedCode = this.shuttingDown ? CloseCode.GoingAway : code;
    const recordedReason = this.shuttingDown ? 'Server shutting down' : reason;
    const done = this.finalise(connection, recordedCode, recordedReason);
    this.finalising.add(done);
    try {
      await done;
    } finally {
      this.finalising.delete(done);
    }
  }

  /** Closes every connection acting for this session (logout, refresh-token reuse) with 4403. */
  closeSession(sessionId: string, reason: string): void {
    for (const connection of this.live.values()) if (connection.viewer?.sessionId === sessionId) connection.close(CloseCode.Forbidden, reason);
  }

  /** Closes every connection of `userId` acting on a token issued before `issuedBefore` (ms) with 4403. */
  closeUser(userId: string, issuedBefore: number, reason: string): void {
    for (const connection of this.live.values()) {
      const viewer = connection.viewer;
      if (viewer?.id === userId && viewer.tokenIssuedAt < issuedBefore) connection.close(CloseCode.Forbidden, reason);
    }
  }

  /** Connections open on this instance now. */
  get size(): number {
    return this.live.size;
  }

  /** `connectionStats`: every live instance's snapshot, this instance's taken now. */
  async connectionStats(topUsers = 10): Promise<ConnectionStats> {
    const stored = await this.deps.stats.all().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, 'reading instance snapshots failed; reporting this instance only');
      return [];
    });
    return mergeSnapshots(stored, this.snapshot(), topUsers);
  }

  /** Call before the transports close their sockets: every close from now on is recorded as 1001. */
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
    for (const unlisten of this.unlisteners.splice(0)) void unlisten.then((stop) => stop(), () => undefined);
    for (const connection of [...this.live.values()]) void this.closed(connection, CloseCode.GoingAway, 'Server shutting down');
    while (this.finalising.size > 0) await Promise.allSettled([...this.finalising]);
    await this.deps.records?.settle();
    await this.deps.stats.remove(this.deps.settings.instanceId).catch(() => undefined);
  }

  private async takeSlot(userId: string, connectionId: string): Promise<ConnectionRefusal | null> {
    const max = this.deps.settings.maxConnectionsPerUser;
    let admitted: boolean;
    try {
      admitted = await this.deps.slots.acquire(userId, connectionId, max);
    } catch (error) {
      // Shared state unreachable: admit rather than lock every user out.
      this.deps.logger.warn({ err: error }, 'connection slot check failed; admitting');
      return null;
    }
    if (admitted) return null;
    this.deps.metrics?.closes.inc({ code: String(CloseCode.TooManyConnections) });
    this.deps.logger.info({ userId, max }, 'websocket refused: per-user connection cap');
    return { code: CloseCode.TooManyConnections, reason: `Too many connections: at most ${max} per user` };
  }

  /** Its operation ended (ConnectionOperation.end): its id is free again. */
  operationEnded(connection: Connection, operation: ConnectionOperation): void {
    if (connection.operations.get(operation.id) === operation) connection.operations.delete(operation.id);
    const field = operation.subscriptionField;
    if (field === null) return;
    this.deps.metrics?.activeSubscriptions.dec({ field });
    this.scheduleSnapshot();
  }

  private async finalise(connection: Connection, code: number, reason: string): Promise<void> {
    const { metrics, logger } = this.deps;
    metrics?.openConnections.dec();
    metrics?.closes.inc({ code: String(code) });
    if (code === CloseCode.Forbidden) metrics?.authFailures.inc({ reason: 'expired_or_revoked' });
    this.scheduleSnapshot();
    const viewer = connection.viewer;
    const slot = viewer ? this.deps.slots.release(viewer.id, connection.id).catch((error: unknown) => logger.warn({ err: error }, 'releasing connection slot failed')) : null;
    await this.opening.get(connection.id);
    const record = connection.protocol === 'sse' ? undefined : this.deps.records?.closed(connection.id, code, reason, connection.lastHeardFrom);
    await Promise.all([slot, record, this.events.emitClosed({ connectionId: connection.id, viewer })]);
  }

  /** Closes connections silent for WS_CONNECTION_TIMEOUT (4410) and those whose access token expired (4403). */
  private sweep(): void {
    const now = Date.now();
    const silentSince = now - this.deps.settings.connectionTimeoutMs;
    for (const connection of this.live.values()) {
      if (connection.closing) continue;
      if (connection.viewer && connection.viewer.tokenExpiresAt <= now) connection.close(CloseCode.Forbidden, 'Access token expired');
      // An SSE client never sends anything after its request: only sockets can fall silent.
      else if (connection.lastActivityAt < silentSince && connection.protocol !== 'sse') connection.close(CloseCode.IdleTimeout, 'Idle timeout');
    }
  }

  /** Keeps this instance's slots and snapshot alive, and writes the lastSeenAt values of connections heard from since the last one. */
  private async heartbeat(): Promise<void> {
    const since = this.lastHeartbeatAt;
    this.lastHeartbeatAt = Date.now();
    const owned: { userId: string; connectionId: string }[] = [];
    const seen: string[] = [];
    let newest = 0;
    for (const connection of this.live.values()) {
      if (connection.viewer) owned.push({ userId: connection.viewer.id, connectionId: connection.id });
      const heard = connection.lastHeardFrom;
      if (heard !== null && heard > since) {
        seen.push(connection.id);
        newest = Math.max(newest, heard);
      }
    }
    await Promise.all([
      this.deps.slots.refresh(owned).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'refreshing connection slots failed')),
      this.deps.records?.markSeen(seen, newest),
      this.publishSnapshot(),
    ]);
  }

  /**
   * Publishes the snapshot shortly after a change, at most once a second: it walks every live
   * connection, and clients that re-subscribe often would otherwise make that a steady cost.
   * `connectionStats` takes this instance's own snapshot fresh; only other instances see it late.
   */
  private scheduleSnapshot(): void {
    if (this.snapshotTimer || this.stopped || !this.started) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      void this.publishSnapshot();
    }, SNAPSHOT_INTERVAL_MS);
    this.snapshotTimer.unref();
  }

  private async publishSnapshot(): Promise<void> {
    if (this.stopped) return;
    await this.deps.stats.put(this.snapshot()).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'publishing connection snapshot failed'));
  }

  private snapshot(): InstanceSnapshot {
    const users = new Map<string, number>();
    const subscriptions: Record<string, number> = {};
    for (const connection of this.live.values()) {
      const userId = connection.viewer?.id;
      if (userId) users.set(userId, (users.get(userId) ?? 0) + 1);
      for (const operation of connection.operations.values()) {
        const field = operation.subscriptionField;
        if (field !== null) subscriptions[field] = (subscriptions[field] ?? 0) + 1;
      }
    }
    const top = [...users].sort((a, b) => b[1] - a[1]).slice(0, TOP_USERS_PER_INSTANCE);
    return {
      instanceId: this.deps.settings.instanceId,
      connections: this.live.size,
      users: Object.fromEntries(top),
      subscriptions,
      updatedAt: new Date().toISOString(),
    };
  }
}
