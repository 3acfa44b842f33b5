import type { InstanceSnapshot } from './instance-stats.js';

/**
 * Where instances leave their snapshots for `connectionStats`. With Redis: a sorted set of live
 * instance ids (score = expiry) plus one JSON value per instance with the same TTL, refreshed on each
 * heartbeat and shortly after every change; a crashed instance's snapshot lapses with its TTL.
 * In memory: only this instance exists.
 */
export interface InstanceStatsStore {
  put(snapshot: InstanceSnapshot): Promise<void>;
  remove(instanceId: string): Promise<void>;
  /** Every live instance's latest snapshot. */
  all(): Promise<InstanceSnapshot[]>;
}
