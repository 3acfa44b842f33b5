import type { ChannelListener, PubSubEngine } from './engine.js';

/** In-process engine for a single instance: delivery is asynchronous, like Redis, so code behaves the same. */
export function createMemoryEngine(): PubSubEngine {
  const listeners = new Map<string, Set<ChannelListener>>();
  return {
    kind: 'memory',
    async publish(channel, message) {
      const set = listeners.get(channel);
      if (!set || set.size === 0) return;
      const snapshot = [...set];
      queueMicrotask(() => {
        for (const listener of snapshot) listener(message);
      });
    },
    async subscribe(channel, listener) {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      // Wrap so the same function can subscribe twice and unsubscribe independently.
      const entry: ChannelListener = (m) => listener(m);
      set.add(entry);
      return () => {
        set.delete(entry);
        if (set.size === 0) listeners.delete(channel);
      };
    },
    async isHealthy() {
      return true;
    },
    async close() {
      listeners.clear();
    },
  };
}
