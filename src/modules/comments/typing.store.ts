/** A typist's state changed without a request: their entry expired (or was ended for them). */
export interface TypingExpiry {
  readonly postId: string;
  readonly userId: string;
  /** Who is still typing on that post after the change, ordered by user id. */
  readonly typingUserIds: string[];
}

export interface TypingStartResult {
  /** False when the user was already typing: the call only refreshed the expiry (nothing to publish). */
  readonly started: boolean;
  readonly typingUserIds: string[];
}

export interface TypingStopResult {
  /** False when the user was not typing (nothing to publish). */
  readonly stopped: boolean;
  readonly typingUserIds: string[];
}

/**
 * Who is typing on which post. Each entry expires `ttlMs` after its last `start`. Two implementations:
 * in-memory (one instance) and Redis (shared by every instance; survives the death of any one of them).
 */
export interface TypingStore {
  start(postId: string, userId: string): Promise<TypingStartResult>;
  stop(postId: string, userId: string): Promise<TypingStopResult>;
  /** Users typing on the post now, ordered by user id. */
  list(postId: string): Promise<string[]>;
  /**
   * Sets the one listener told about expired entries (and starts whatever timer finds them). Each expiry is reported exactly once across all
   * instances sharing the store, so exactly one `isTyping: false` event is published for it.
   */
  onExpired(listener: (expiry: TypingExpiry) => void): void;
  /** Stops timers. */
  close(): void;
}
