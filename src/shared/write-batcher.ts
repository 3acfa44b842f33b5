/**
 * Collects the writes requested in one turn of the event loop and performs them as one statement:
 * a burst of 1,000 reconnecting clients costs a few multi-row INSERTs instead of 1,000 round trips.
 * Each caller's promise settles with its batch (rejects with the batch's error).
 */
export class WriteBatcher<T> {
  private pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly writeMany: (items: T[]) => Promise<unknown>,
    private readonly maxBatch = 500,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    this.scheduled = false;
    for (let start = 0; start < all.length; start += this.maxBatch) {
      const batch = all.slice(start, start + this.maxBatch);
      this.writeMany(batch.map((entry) => entry.item)).then(
        () => {
          for (const entry of batch) entry.resolve();
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      );
    }
  }
}
