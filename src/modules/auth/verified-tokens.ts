import { TokenError, verifyAccessToken, type AccessClaims, type TokenSettings } from './tokens.js';

/** Enough for the clients that send one token many times (publishers, dashboards, reconnecting tabs). */
const DEFAULT_CAPACITY = 4_096;

/**
 * Access tokens whose signature, issuer, audience and type were verified, with their claims, so a token
 * sent again (every HTTP request of a client, every reconnect) skips the HMAC and JSON work of
 * `jsonwebtoken` (~45-120 µs a token in profiles). Only the checks that depend on the token's bytes are
 * cached: expiry is checked against the clock at every use, and revocation (session, role change) is the
 * caller's at every use. Bounded: the oldest entry goes when full, a use moves an entry to the back.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, AccessClaims>();

  constructor(
    private readonly settings: TokenSettings,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  verify(token: string, now = Date.now()): AccessClaims {
    const cached = this.entries.get(token);
    if (cached) {
      this.entries.delete(token);
      if (now >= cached.expiresAt) throw new TokenError('EXPIRED', 'Access token expired');
      this.entries.set(token, cached);
      return cached;
    }
    const claims = verifyAccessToken(this.settings, token, now);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, claims);
    return claims;
  }
}
