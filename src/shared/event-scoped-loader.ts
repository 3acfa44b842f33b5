/** How long one event's loaded row is shared between its subscribers. */
const DEFAULT_TTL_MS = 2_000;

/**
 * Loads a row once per event and shares the promise with every subscriber of that event for a short
 * while: a fan-out to 5,000 subscribers costs one query, not 5,000.
 */
export class EventScopedLoader<T> {
  private readonly pending = new Map<string, Promise<T>>();

  constructor(
    private readonly load: (id: string) => Promise<T>,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {}

  /** `key` identifies the event (event id plus row id); `id` is what `load` needs. */
  get(key: string, id: string): Promise<T> {
    let promise = this.pending.get(key);
    if (!promise) {
      promise = this.load(id);
      this.keep(key, promise);
    }
    return promise;
  }

  /** Answers `key` with `value` without a load (the publisher already holds the row it wrote). */
  prime(key: string, value: T): void {
    if (!this.pending.has(key)) this.keep(key, Promise.resolve(value));
  }

  private keep(key: string, promise: Promise<T>): void {
    this.pending.set(key, promise);
    setTimeout(() => this.pending.delete(key), this.ttlMs).unref();
  }
}
