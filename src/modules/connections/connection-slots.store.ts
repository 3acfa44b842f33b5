/**
 * Per-user connection slots, the `WS_MAX_CONNECTIONS_PER_USER` cap. Each slot carries an expiry that
 * the owning instance refreshes on every heartbeat; a crashed instance stops refreshing, so its slots
 * lapse after `ttlMs` and the user is never locked out.
 */
export interface ConnectionSlots {
  /** Takes a slot for `connectionId`; false when the user already holds `max` live slots. */
  acquire(userId: string, connectionId: string, max: number): Promise<boolean>;
  /** Frees a slot at once (the connection closed). */
  release(userId: string, connectionId: string): Promise<void>;
  /** Pushes the expiry of these live slots forward (called by this instance's heartbeat). */
  refresh(slots: readonly { userId: string; connectionId: string }[]): Promise<void>;
}
