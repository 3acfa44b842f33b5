/** A message handler; the engine never awaits it. */
export type ChannelListener = (message: unknown) => void;

/**
 * The transport under PubSub: Redis across instances, or in-process. Nothing outside `realtime/`
 * knows which one runs.
 */
export interface PubSubEngine {
  readonly kind: 'redis' | 'memory';
  publish(channel: string, message: object): Promise<void>;
  /** Resolves once the channel is subscribed; the returned function unsubscribes. */
  subscribe(channel: string, listener: ChannelListener): Promise<() => void>;
  /** Calls `listener` each time the engine is connected again after losing its connection (messages in between are lost). */
  onRestored?(listener: () => void): void;
  /** True when the engine can currently publish and receive. */
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}
