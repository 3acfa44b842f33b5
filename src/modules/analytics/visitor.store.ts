/**
 * Where last-seen times live: this process's memory, or Redis so every instance counts the same
 * visitors. Entries older than the window must stop counting on their own (no cleanup job needed).
 */
export interface VisitorStore {
  /** Records that these visitors were seen at `at` (epoch ms). */
  touch(visitorIds: readonly string[], at: number): Promise<void>;
  /** Distinct visitors seen at or after `since` (epoch ms); may forget older entries while at it. */
  countSince(since: number): Promise<number>;
}
