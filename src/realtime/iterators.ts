/**
 * Yields `first` (the current state, as the old system sent on subscribe) and then every item of
 * `rest`. Closing the result closes `rest`, so no topic listener outlives its subscriber.
 */
export function prepend<T>(first: T, rest: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  let sentFirst = false;
  return {
    next() {
      if (!sentFirst) {
        sentFirst = true;
        return Promise.resolve({ value: first, done: false });
      }
      return rest.next();
    },
    return() {
      return rest.return ? rest.return() : Promise.resolve({ value: undefined, done: true });
    },
    throw(error?: unknown) {
      return rest.throw ? rest.throw(error) : Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
