import type { ConnectionSlots } from './connection-slots.store.js';

/** One process: a map of users to their slots' expiries. */
export class MemoryConnectionSlots implements ConnectionSlots {
  private readonly slots = new Map<string, Map<string, number>>();

  constructor(private readonly ttlMs: number) {}

  async acquire(userId: string, connectionId: string, max: number): Promise<boolean> {
    const now = Date.now();
    const mine = this.slots.get(userId) ?? new Map<string, number>();
    // Lapsed slots only matter at the cap: sweeping on every acquire made a user's connections O(n²).
    if (!mine.has(connectionId) && mine.size >= max) {
      for (const [id, expiry] of mine) if (expiry <= now) mine.delete(id);
      if (mine.size >= max) return false;
    }
    mine.set(connectionId, now + this.ttlMs);
    this.slots.set(userId, mine);
    return true;
  }

  async release(userId: string, connectionId: string): Promise<void> {
    const mine = this.slots.get(userId);
    if (!mine) return;
    mine.delete(connectionId);
    if (mine.size === 0) this.slots.delete(userId);
  }

  async refresh(slots: readonly { userId: string; connectionId: string }[]): Promise<void> {
    const expiry = Date.now() + this.ttlMs;
    for (const { userId, connectionId } of slots) this.slots.get(userId)?.set(connectionId, expiry);
  }
}
