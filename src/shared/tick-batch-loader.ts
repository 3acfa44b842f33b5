interface Waiter<T> {
  resolve(value: T | null): void;
  reject(error: unknown): void;
}

/**
 * Collects the lookups made in one tick and answers them with one query: a list of 50 comments
 * resolving their authors costs one query, not 50. Nothing is cached across ticks, so answers are
 * never stale.
 */
export class TickBatchLoader<T extends { id: string }> {
  private pending = new Map<string, Waiter<T>[]>();
  private scheduled = false;

  constructor(private readonly loadMany: (ids: string[]) => Promise<T[]>) {}

  load(id: string): Promise<T | null> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(id) ?? [];
      waiters.push({ resolve, reject });
      this.pending.set(id, waiters);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    try {
      const rows = await this.loadMany([...batch.keys()]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve(byId.get(id) ?? null);
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  }
}
