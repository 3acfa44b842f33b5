import type { Viewer } from '../auth/viewer.js';

/** What modules learn about WebSocket connections on this instance (typing ends when its socket closes). */
export interface ConnectionInfo {
  readonly connectionId: string;
  readonly viewer: Viewer | null;
}

export type ConnectionListener = (info: ConnectionInfo) => void | Promise<void>;

/** A tiny in-process bus: the WebSocket transport emits, services listen. */
export class ConnectionEvents {
  private readonly openedListeners = new Set<ConnectionListener>();
  private readonly closedListeners = new Set<ConnectionListener>();

  onOpened(listener: ConnectionListener): () => void {
    this.openedListeners.add(listener);
    return () => this.openedListeners.delete(listener);
  }

  onClosed(listener: ConnectionListener): () => void {
    this.closedListeners.add(listener);
    return () => this.closedListeners.delete(listener);
  }

  async emitOpened(info: ConnectionInfo): Promise<void> {
    await Promise.allSettled([...this.openedListeners].map((l) => l(info)));
  }

  async emitClosed(info: ConnectionInfo): Promise<void> {
    await Promise.allSettled([...this.closedListeners].map((l) => l(info)));
  }
}
