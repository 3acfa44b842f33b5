import type { PrismaClient } from '../../data/db.js';

const NOT_REVOKED_TTL_MS = 5_000;
const MAX_ENTRIES = 50_000;

/**
 * Answers "was this session logged out?" for every authenticated request without a database round
 * trip each time: a "not revoked" answer is trusted for a few seconds, a revocation forever (and
 * every instance hears of one at once through the `sessionRevoked` topic).
 */
export class SessionRevocations {
  private readonly entries = new Map<string, { revoked: boolean; until: number }>();

  constructor(private readonly db: PrismaClient) {}

  markRevoked(sessionId: string): void {
    this.set(sessionId, { revoked: true, until: Number.POSITIVE_INFINITY });
  }

  async isRevoked(sessionId: string, now = Date.now()): Promise<boolean> {
    const cached = this.entries.get(sessionId);
    if (cached && cached.until > now) return cached.revoked;
    const revoked = (await this.db.refreshToken.count({ where: { familyId: sessionId, revokedAt: { not: null } } })) > 0;
    this.set(sessionId, { revoked, until: revoked ? Number.POSITIVE_INFINITY : now + NOT_REVOKED_TTL_MS });
    return revoked;
  }

  private set(sessionId: string, entry: { revoked: boolean; until: number }): void {
    // Map iteration order is insertion order: dropping the first key evicts the oldest entry.
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(sessionId)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(sessionId, entry);
  }
}
