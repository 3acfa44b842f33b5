import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { TokenError, hashRefreshToken, newRefreshToken, parseBearer, signAccessToken, verifyAccessToken } from '../../src/modules/auth/tokens.js';
import { VerifiedTokens } from '../../src/modules/auth/verified-tokens.js';

const settings = { secret: 's'.repeat(32), issuer: 'herald', audience: 'herald-api', accessTtlMs: 60_000 };
const claims = { userId: 'u1', role: 'READER' as const, sessionId: 'sess1' };

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof TokenError) return error.reason;
    throw error;
  }
  return 'ACCEPTED';
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access tokens', () => {
  it('round-trips its claims', () => {
    const { token, expiresAt } = signAccessToken(settings, claims, 1_000_000_000_123);
    const verified = verifyAccessToken(settings, token, 1_000_000_030_000);
    // The issue time keeps its milliseconds (`iat` alone has whole seconds): role changes are compared with it.
    expect(verified).toEqual({ ...claims, expiresAt: expiresAt.getTime(), issuedAt: 1_000_000_000_123 });
  });

  it('rejects an expired token', () => {
    const { token } = signAccessToken(settings, claims, 1_000_000_000_000);
    expect(reason(() => verifyAccessToken(settings, token, 1_000_000_061_000))).toBe('EXPIRED');
  });

  it('rejects another secret, issuer or audience', () => {
    const { token } = signAccessToken({ ...settings, secret: 'o'.repeat(32) }, claims);
    expect(reason(() => verifyAccessToken(settings, token))).toBe('INVALID');
    expect(reason(() => verifyAccessToken(settings, signAccessToken({ ...settings, issuer: 'evil' }, claims).token))).toBe('INVALID');
    expect(reason(() => verifyAccessToken(settings, signAccessToken({ ...settings, audience: 'other' }, claims).token))).toBe('INVALID');
  });

  it("rejects alg 'none' and other algorithms", () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: 'u1', role: 'STAFF', sid: 's', typ: 'access', iss: 'herald', aud: 'herald-api', iat: now, exp: now + 60 };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    expect(reason(() => verifyAccessToken(settings, none))).toBe('INVALID');
    const hs512 = jwt.sign(payload, settings.secret, { algorithm: 'HS512' });
    expect(reason(() => verifyAccessToken(settings, hs512))).toBe('INVALID');
  });

  it('rejects a tampered payload with the original signature', () => {
    const { token } = signAccessToken(settings, claims);
    const [header, body, signature] = token.split('.') as [string, string, string];
    const tampered = { ...JSON.parse(Buffer.from(body, 'base64url').toString()), role: 'STAFF' };
    expect(reason(() => verifyAccessToken(settings, `${header}.${b64(tampered)}.${signature}`))).toBe('INVALID');
  });

  it('rejects a correctly signed token that is not an access token', () => {
    const now = Math.floor(Date.now() / 1000);
    const body = b64({ sub: 'u1', role: 'READER', sid: 's', typ: 'refresh', iss: 'herald', aud: 'herald-api', iat: now, exp: now + 60 });
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const signature = createHmac('sha256', settings.secret).update(`${header}.${body}`).digest('base64url');
    expect(reason(() => verifyAccessToken(settings, `${header}.${body}.${signature}`))).toBe('INVALID');
  });

  it('calls garbage malformed', () => {
    expect(reason(() => verifyAccessToken(settings, 'not-a-jwt'))).toBe('MALFORMED');
  });
});

describe('refresh tokens and bearer parsing', () => {
  it('stores only a hash of an unguessable token', () => {
    const a = newRefreshToken();
    const b = newRefreshToken();
    expect(a.token).not.toBe(b.token);
    expect(a.token.length).toBeGreaterThanOrEqual(43);
    expect(a.hash).toBe(hashRefreshToken(a.token));
    expect(a.hash).not.toContain(a.token);
  });

  it('accepts "Bearer x", "bearer x" and a bare token', () => {
    expect(parseBearer('Bearer abc')).toBe('abc');
    expect(parseBearer('bearer   abc ')).toBe('abc');
    expect(parseBearer('abc')).toBe('abc');
    expect(parseBearer('')).toBeNull();
    expect(parseBearer(42)).toBeNull();
  });
});

const verifiedSettings = { secret: 'a-test-secret-long-enough-for-hs256', issuer: 'herald', audience: 'herald-clients', accessTtlMs: 60_000 };

describe('VerifiedTokens', () => {
  it('answers a token sent again with the same claims, and still expires it on time', () => {
    const issuedAt = Date.now();
    const { token, expiresAt } = signAccessToken(verifiedSettings, { userId: 'u1', role: 'READER', sessionId: 's1' }, issuedAt);
    const tokens = new VerifiedTokens(verifiedSettings);
    const first = tokens.verify(token, issuedAt);
    expect(tokens.verify(token, issuedAt + 1_000)).toEqual(first);
    expect(first).toMatchObject({ userId: 'u1', role: 'READER', sessionId: 's1' });
    expect(reason(() => tokens.verify(token, expiresAt.getTime()))).toBe('EXPIRED');
  });

  it('never remembers a token that failed, and refuses a tampered copy of a remembered one', () => {
    const { token } = signAccessToken(verifiedSettings, { userId: 'u1', role: 'READER', sessionId: 's1' });
    const tokens = new VerifiedTokens(verifiedSettings);
    tokens.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'STAFF' })).toString('base64url');
    const forged = `${header}.${forgedPayload}.${signature}`;
    expect(reason(() => tokens.verify(forged))).toBe('INVALID');
    expect(reason(() => tokens.verify(forged))).toBe('INVALID');
    const otherSecret = new VerifiedTokens({ ...verifiedSettings, secret: 'another-secret-entirely-for-this-test' });
    expect(reason(() => otherSecret.verify(token))).toBe('INVALID');
  });
});
