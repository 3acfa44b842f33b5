/** What one instance reports about its WebSocket connections. */
export interface InstanceSnapshot {
  readonly instanceId: string;
  readonly connections: number;
  /** Open connections per user id (this instance's busiest users only, see TOP_USERS_PER_INSTANCE). */
  readonly users: Readonly<Record<string, number>>;
  /** Running subscriptions by root field. */
  readonly subscriptions: Readonly<Record<string, number>>;
  /** ISO time the snapshot was taken. */
  readonly updatedAt: string;
}

/** Per-instance snapshots keep at most this many users, so a snapshot stays small at any scale. */
export const TOP_USERS_PER_INSTANCE = 100;

export interface ConnectionStats {
  readonly totalConnections: number;
  readonly instances: readonly { instanceId: string; connections: number; updatedAt: string }[];
  readonly topUsers: readonly { userId: string; connections: number }[];
  readonly subscriptions: readonly { field: string; count: number }[];
  readonly totalSubscriptions: number;
}

/** Sums the instances' snapshots; `live` (this instance, always current) replaces its stored copy. */
export function mergeSnapshots(stored: readonly InstanceSnapshot[], live: InstanceSnapshot, topN: number): ConnectionStats {
  const snapshots = [live, ...stored.filter((s) => s.instanceId !== live.instanceId)];
  const users = new Map<string, number>();
  const fields = new Map<string, number>();
  for (const snapshot of snapshots) {
    for (const [user, n] of Object.entries(snapshot.users)) users.set(user, (users.get(user) ?? 0) + n);
    for (const [field, n] of Object.entries(snapshot.subscriptions)) fields.set(field, (fields.get(field) ?? 0) + n);
  }
  const subscriptions = [...fields].map(([field, count]) => ({ field, count })).sort((a, b) => b.count - a.count || a.field.localeCompare(b.field));
  return {
    totalConnections: snapshots.reduce((sum, s) => sum + s.connections, 0),
    instances: snapshots
      .map((s) => ({ instanceId: s.instanceId, connections: s.connections, updatedAt: s.updatedAt }))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
    topUsers: [...users]
      .map(([userId, connections]) => ({ userId, connections }))
      .sort((a, b) => b.connections - a.connections || a.userId.localeCompare(b.userId))
      .slice(0, topN),
    subscriptions,
    totalSubscriptions: subscriptions.reduce((sum, s) => sum + s.count, 0),
  };
}
