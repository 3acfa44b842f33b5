import { createHash, createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Role } from '../../generated/prisma/enums.js';

export interface TokenSettings {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTtlMs: number;
}

/** Who an access token speaks for. `sessionId` is the refresh-token family, so logout revokes it. */
export interface AccessClaims {
  readonly userId: string;
  readonly role: Role;
  readonly sessionId: string;
  /** Expiry, milliseconds since the epoch. */
  readonly expiresAt: number;
  /**
   * Issue time, milliseconds since the epoch (the `iat_ms` claim; `iat` has whole seconds only, too coarse
   * to tell a token signed just before a role change from one signed just after). Tokens without the
   * claim count from the start of their `iat` second.
   */
  readonly issuedAt: number;
}

export type TokenFailure = 'MISSING' | 'MALFORMED' | 'EXPIRED' | 'INVALID';

export class TokenError extends Error {
  override name = 'TokenError';
  constructor(readonly reason: TokenFailure, message: string) {
    super(message);
  }
}

const ALGORITHM = 'HS256';

const secretKeys = new Map<string, KeyObject>();
/** jsonwebtoken turns a string secret into a KeyObject on every call; profiles showed it, so build it once. */
function keyFor(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    secretKeys.set(secret, key);
  }
  return key;
}
const ROLES: ReadonlySet<string> = new Set(['READER', 'AUTHOR', 'STAFF']);

/** `now` is also the token's issue time (`iat`, `iat_ms`). */
export function signAccessToken(settings: TokenSettings, claims: Omit<AccessClaims, 'expiresAt' | 'issuedAt'>, now = Date.now()) {
  const expiresAt = Math.floor((now + settings.accessTtlMs) / 1000) * 1000;
  const token = jwt.sign(
    { role: claims.role, sid: claims.sessionId, typ: 'access', iat: Math.floor(now / 1000), iat_ms: Math.floor(now), exp: expiresAt / 1000 },
    keyFor(settings.secret),
    { algorithm: ALGORITHM, issuer: settings.issuer, audience: settings.audience, subject: claims.userId, jwtid: randomUUID() },
  );
  return { token, expiresAt: new Date(expiresAt) };
}

/**
 * Verifies signature (HS256 only: `none` and every other algorithm are refused), issuer, audience,
 * expiry and token type. Throws TokenError; never returns a partly trusted result.
 */
export function verifyAccessToken(settings: TokenSettings, token: string, now = Date.now()): AccessClaims {
  let payload: string | jwt.JwtPayload;
  try {
    payload = jwt.verify(token, keyFor(settings.secret), {
      algorithms: [ALGORITHM],
      issuer: settings.issuer,
      audience: settings.audience,
      clockTimestamp: Math.floor(now / 1000),
    });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw new TokenError('EXPIRED', 'Access token expired');
    if (error instanceof jwt.JsonWebTokenError && error.message === 'jwt malformed') {
      throw new TokenError('MALFORMED', 'Access token is malformed');
    }
    throw new TokenError('INVALID', 'Access token is invalid');
  }
  if (typeof payload === 'string' || payload.typ !== 'access') throw new TokenError('INVALID', 'Not an access token');
  const { sub, role, sid, exp, iat } = payload;
  if (typeof sub !== 'string' || typeof sid !== 'string' || typeof exp !== 'number' || typeof role !== 'string' || !ROLES.has(role)) {
    throw new TokenError('INVALID', 'Access token is missing claims');
  }
  const iatMs: unknown = payload.iat_ms;
  const issuedAt = typeof iatMs === 'number' && Number.isFinite(iatMs) ? iatMs : typeof iat === 'number' ? iat * 1000 : 0;
  return { userId: sub, role: role as Role, sessionId: sid, expiresAt: exp * 1000, issuedAt };
}

/** Refresh tokens are opaque random strings; only their SHA-256 is stored, so a database leak cannot replay them. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Accepts "Bearer <t>" (any case) or a bare token. */
export function parseBearer(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const match = /^bearer\s+(.+)$/i.exec(trimmed);
  return match ? (match[1] ?? '').trim() || null : trimmed;
}
