import { describe, expect, it } from 'vitest';
import { signAccessToken, TokenError, type TokenSettings } from '../../src/modules/auth/tokens.js';
import { VerifiedTokens } from '../../src/modules/auth/verified-tokens.js';

const settings: TokenSettings = { secret: 'a-test-secret-long-enough-for-hs256', issuer: 'herald', audience: 'herald-clients', accessTtlMs: 60_000 };

function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof TokenError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('VerifiedTokens', () => {
  it('answers a token sent again with the same claims, and still expires it on time', () => {
    const issuedAt = Date.now();
    const { token, expiresAt } = signAccessToken(settings, { userId: 'u1', role: 'READER', sessionId: 's1' }, issuedAt);
    const tokens = new VerifiedTokens(settings);
    const first = tokens.verify(token, issuedAt);
    expect(tokens.verify(token, issuedAt + 1_000)).toEqual(first);
    expect(first).toMatchObject({ userId: 'u1', role: 'READER', sessionId: 's1' });
    expect(failure(() => tokens.verify(token, expiresAt.getTime()))).toBe('EXPIRED');
  });

  it('never remembers a token that failed, and refuses a tampered copy of a remembered one', () => {
    const { token } = signAccessToken(settings, { userId: 'u1', role: 'READER', sessionId: 's1' });
    const tokens = new VerifiedTokens(settings);
    tokens.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'STAFF' })).toString('base64url');
    const forged = `${header}.${forgedPayload}.${signature}`;
    expect(failure(() => tokens.verify(forged))).toBe('INVALID');
    expect(failure(() => tokens.verify(forged))).toBe('INVALID');
    const otherSecret = new VerifiedTokens({ ...settings, secret: 'another-secret-entirely-for-this-test' });
    expect(failure(() => otherSecret.verify(token))).toBe('INVALID');
  });
});
