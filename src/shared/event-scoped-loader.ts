/** How long one event's loaded row is shared between its subscribers. */
const DEFAULT_TTL_MS = 2_000;

/** One event's row: the value once known, else the load in flight (or the failed load). */
interface Entry<T> {
  known: boolean;
  value: T | undefined;
  promise: Promise<T> | undefined;
}

/**
 * Loads a row once per event and shares it with every subscriber of that event for a short while: a
 * fan-out to 5,000 subscribers costs one query, not 5,000. Once the row is known (primed by the writer, or
 * loaded) it is answered as a plain value, not a promise: a subscription whose other resolvers are
 * synchronous then executes in the same turn, and its result is written to each subscriber as the event
 * reaches it, rather than after every subscriber has queued behind a pending execution.
 */
export class EventScopedLoader<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly load: (id: string) => Promise<T>,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {}

  /** `key` identifies the event (event id plus row id); `id` is what `load` needs. */
  get(key: string, id: string): T | Promise<T> {
    const known = this.entries.get(key);
    if (known) return known.known ? (known.value as T) : (known.promise as Promise<T>);
    const promise = this.load(id);
    const entry: Entry<T> = { known: false, value: undefined, promise };
    // A failed load stays a rejected promise for its subscribers; this only records a success.
    promise.then(
      (value) => {
        entry.known = true;
        entry.value = value;
        entry.promise = undefined;
      },
      () => undefined,
    );
    this.keep(key, entry);
    return promise;
  }

  /** Answers `key` with `value` without a load (the publisher already holds the row it wrote). */
  prime(key: string, value: T): void {
    if (!this.entries.has(key)) this.keep(key, { known: true, value, promise: undefined });
  }

  private keep(key: string, entry: Entry<T>): void {
    this.entries.set(key, entry);
    setTimeout(() => this.entries.delete(key), this.ttlMs).unref();
  }
}
