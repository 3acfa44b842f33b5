import type { InstanceSnapshot } from './instance-stats.js';
import type { InstanceStatsStore } from './instance-stats.store.js';

export class MemoryInstanceStats implements InstanceStatsStore {
  private readonly snapshots = new Map<string, InstanceSnapshot>();

  async put(snapshot: InstanceSnapshot): Promise<void> {
    this.snapshots.set(snapshot.instanceId, snapshot);
  }

  async remove(instanceId: string): Promise<void> {
    this.snapshots.delete(instanceId);
  }

  async all(): Promise<InstanceSnapshot[]> {
    return [...this.snapshots.values()];
  }
}
