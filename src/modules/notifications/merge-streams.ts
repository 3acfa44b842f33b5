type Settled<T> = { readonly index: number; readonly result?: IteratorResult<T>; readonly error?: unknown };

/**
 * One stream of the events of several, in arrival order (a viewer's own topic and the broadcast
 * topic). Each source always has exactly one pull outstanding, so nothing is lost or reordered within
 * a source. The merged stream ends when every source has ended, fails when one fails, and closing it
 * closes every source, so no topic listener outlives its subscriber.
 */
export function mergeStreams<T>(sources: readonly AsyncIterator<T>[]): AsyncIterableIterator<T> {
  const pending = new Map<number, Promise<Settled<T>>>();
  let closed = false;

  const pull = (index: number) => {
    const source = sources[index] as AsyncIterator<T>;
    // Settle into a value so a source failing while nobody is pulling is never an unhandled rejection.
    pending.set(
      index,
      source.next().then(
        (result) => ({ index, result }),
        (error: unknown) => ({ index, error }),
      ),
    );
  };
  sources.forEach((_, index) => pull(index));

  const closeAll = async () => {
    if (closed) return;
    closed = true;
    pending.clear();
    await Promise.allSettled(sources.map((source) => source.return?.()));
  };

  return {
    async next(): Promise<IteratorResult<T>> {
      while (!closed && pending.size > 0) {
        const settled = await Promise.race(pending.values());
        if (closed) break;
        if ('error' in settled) {
          await closeAll();
          throw settled.error;
        }
        if (!settled.result || settled.result.done) {
          pending.delete(settled.index);
          continue;
        }
        pull(settled.index);
        return { value: settled.result.value, done: false };
      }
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<T>> {
      await closeAll();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown): Promise<IteratorResult<T>> {
      await closeAll();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
