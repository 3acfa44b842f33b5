import type { VisitorStore } from './visitor.store.js';

export class MemoryVisitorStore implements VisitorStore {
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  touch(visitorIds: readonly string[], at: number): Promise<void> {
    // Bounded memory: when the map is large, forget visitors that can no longer count.
    if (this.lastSeen.size > 10_000) this.forgetBefore(this.now() - this.windowMs);
    for (const id of visitorIds) this.lastSeen.set(id, Math.max(at, this.lastSeen.get(id) ?? 0));
    return Promise.resolve();
  }

  countSince(since: number): Promise<number> {
    this.forgetBefore(since);
    return Promise.resolve(this.lastSeen.size);
  }

  private forgetBefore(cutoff: number): void {
    for (const [id, at] of this.lastSeen) if (at < cutoff) this.lastSeen.delete(id);
  }
}
