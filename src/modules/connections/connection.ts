import type { Viewer } from '../auth/viewer.js';
import type { RequestOrigin } from '../../shared/request-origin.js';
import type { OperationRate } from './operation-limits.js';

/**
 * What a transport hands over for each socket: the only way this module reaches it. Closing starts
 * the close handshake; the transport reports the end through `ConnectionRegistry.closed`.
 */
export interface ConnectionLink {
  close(code: number, reason: string): void;
}

/** What a connection speaks: a WebSocket protocol, or one SSE subscription stream. */
export type ConnectionProtocol = 'graphql-transport-ws' | 'graphql-ws' | 'legacy-endpoint' | 'sse';

/** Told when an operation ends (ConnectionRegistry: frees its id, counts a subscription's end). */
export interface OperationOwner {
  operationEnded(connection: Connection, operation: ConnectionOperation): void;
}

/**
 * One operation of a connection, under the protocol's id, from the moment its message arrived until
 * it ends (client `complete`, finished, refused, or the connection closed). An ended operation delivers
 * nothing more: whoever runs it registers its stop with `onEnd` and checks `ended` after each await.
 */
export class ConnectionOperation {
  /** What stops its delivery (usually one function), null once ended: made with the first (a push into `[]` reserves 17 slots). */
  private stops: (() => void)[] | undefined | null = undefined;
  /** The root field while it runs as a subscription (counted against the per-connection limit). */
  subscriptionField: string | null = null;

  constructor(
    readonly id: string,
    // The connection and who to tell as references, not a callback closing over them (one per operation).
    private readonly connection: Connection,
    private readonly owner: OperationOwner,
  ) {}

  get isEnded(): boolean {
    return this.stops === null;
  }

  /** Registers what stops its delivery; runs it at once when the operation has already ended. */
  onEnd(stop: () => void): void {
    if (this.stops === null) stop();
    else if (this.stops === undefined) this.stops = [stop];
    else this.stops.push(stop);
  }

  /** Ends it (idempotent): its id is free again and every registered stop runs. */
  end(): void {
    const stops = this.stops;
    if (stops === null) return;
    this.stops = null;
    this.owner.operationEnded(this.connection, this);
    if (stops) for (const stop of stops) stop();
  }
}

/**
 * One WebSocket connection: who it is (changed only by ConnectionRegistry, which owns its lifecycle),
 * where it came from, when it was last heard from, and its running operations. Transports hold it as a
 * handle: they report activity with `touch()` and ask the registry for everything else.
 */
export class Connection {
  private currentViewer: Viewer | null;
  /** Last message or pong (ms); the idle timeout and `lastSeenAt` read it. */
  lastActivityAt: number;
  /** Running operations by protocol id. */
  readonly operations = new Map<string, ConnectionOperation>();
  /** A close was asked for (the handshake may still be running); asked once. */
  closing = false;

  constructor(
    readonly id: string,
    readonly protocol: ConnectionProtocol,
    readonly origin: RequestOrigin,
    viewer: Viewer | null,
    private readonly link: ConnectionLink,
    readonly rate: OperationRate,
    readonly openedAt = Date.now(),
  ) {
    this.currentViewer = viewer;
    this.lastActivityAt = openedAt;
  }

  /** The user this connection acts for (its token, or the first per-operation token it adopted). */
  get viewer(): Viewer | null {
    return this.currentViewer;
  }

  /** The client was heard from (a message or a pong). */
  touch(at = Date.now()): void {
    this.lastActivityAt = at;
  }

  /** When the client was last heard from, null when never since it connected. */
  get lastHeardFrom(): number | null {
    return this.lastActivityAt > this.openedAt ? this.lastActivityAt : null;
  }

  /** Running subscriptions (operations started as one and not ended). */
  get subscriptionCount(): number {
    let count = 0;
    for (const operation of this.operations.values()) if (operation.subscriptionField !== null) count++;
    return count;
  }

  /** Starts the close handshake with this code; the registry finalises once the transport reports it closed. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.link.close(code, reason);
  }

  /** ConnectionRegistry only: the connection now acts for `viewer` (adopted or renewed identity). */
  assume(viewer: Viewer): void {
    this.currentViewer = viewer;
  }
}
