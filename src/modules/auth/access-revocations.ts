import type { PrismaClient } from '../../data/db.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import { rowsById } from '../../shared/rows-by-id.js';

const CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 50_000;

/**
 * Answers "since when are this user's access tokens accepted?" (`User.accessRevokedBefore`, set when the
 * role changes) for every authenticated request without a database round trip each time: an answer is
 * trusted for a few seconds, lookups made in one tick share one query, and every instance hears of a
 * change at once through the `userAccessRevoked` topic. Cutoffs only move forward, so a late database
 * answer never undoes an event that arrived before it.
 */
export class AccessRevocations {
  private readonly entries = new Map<string, { before: number; until: number }>();
  private readonly users: ReturnType<typeof rowsById<{ id: string; accessRevokedBefore: Date | null }>>;

  constructor(db: PrismaClient) {
    this.users = rowsById((ids) => db.user.findMany({ where: { id: { in: ids } }, select: { id: true, accessRevokedBefore: true } }));
  }

  /** Access tokens of `userId` issued before `before` (ms since the epoch) are refused from now on. */
  markRevoked(userId: string, before: number, now = Date.now()): void {
    this.set(userId, before, now);
  }

  /** The cutoff in ms since the epoch; 0 when every token of the user counts. */
  async revokedBefore(userId: string, now = Date.now()): Promise<number> {
    const cached = this.entries.get(userId);
    if (cached && cached.until > now) return cached.before;
    const row = await this.users.load(userId);
    return this.set(userId, row?.accessRevokedBefore?.getTime() ?? 0, now);
  }

  /** Applies every instance's `userAccessRevoked` events to this cache; resolves once listening. */
  listen(pubsub: PubSub): Promise<() => void> {
    return pubsub.listen(topics.userAccessRevoked(), (event) => this.markRevoked(event.userId, event.revokedBefore));
  }

  private set(userId: string, before: number, now: number): number {
    const merged = Math.max(before, this.entries.get(userId)?.before ?? 0);
    // Map iteration order is insertion order: dropping the first key evicts the oldest entry.
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(userId)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(userId, { before: merged, until: now + CACHE_TTL_MS });
    return merged;
  }
}
