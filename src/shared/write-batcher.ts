/**
 * Collects the writes requested in one turn of the event loop (or, with `windowMs`, over that long) and
 * performs them as one statement: a burst of 1,000 reconnecting clients costs a few multi-row INSERTs
 * instead of 1,000 round trips. Each caller's promise settles with its batch (rejects with the batch's error);
 * when `writeMany` answers one result per item, in order, each caller gets its own.
 */
export class WriteBatcher<T, R = void> {
  private pending: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;

  constructor(
    private readonly writeMany: (items: T[]) => Promise<readonly R[] | void>,
    private readonly maxBatch = 500,
    /** 0: the writes of one turn; above: of this many milliseconds from the first. */
    private readonly windowMs = 0,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.timer) return;
      this.timer = this.windowMs > 0 ? setTimeout(() => void this.flush(), this.windowMs) : setImmediate(() => void this.flush());
    });
  }

  /** Writes what is pending now, without waiting for the window; settles once those writes have. */
  flush(): Promise<void> {
    if (this.timer) {
      if (this.windowMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
      else clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
    const all = this.pending;
    this.pending = [];
    const batches: Promise<void>[] = [];
    for (let start = 0; start < all.length; start += this.maxBatch) {
      const batch = all.slice(start, start + this.maxBatch);
      batches.push(
        this.writeMany(batch.map((entry) => entry.item)).then(
          (results) => {
            batch.forEach((entry, i) => entry.resolve(results?.[i] as R));
          },
          (error: unknown) => {
            for (const entry of batch) entry.reject(error);
          },
        ),
      );
    }
    return Promise.all(batches).then(() => undefined);
  }
}
