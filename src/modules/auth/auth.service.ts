import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../data/db.js';
import type { User } from '../../generated/prisma/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import { Prisma } from '../../generated/prisma/client.js';
import { conflict, unauthenticated } from '../../shared/errors.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import type { SessionRevocations } from './session-revocations.js';
import {
  TokenError,
  hashRefreshToken,
  newRefreshToken,
  signAccessToken,
  verifyAccessToken,
  type TokenSettings,
} from './tokens.js';
import type { Viewer } from './viewer.js';
import { validateRegistration, type RegistrationInput } from './registration.js';

export interface AuthResult {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly accessTokenExpiresAt: Date;
  readonly refreshTokenExpiresAt: Date;
  readonly user: User;
}

export interface AuthSettings extends TokenSettings {
  readonly refreshTtlMs: number;
}

export class AuthService {
  private revocationListener: Promise<() => void> | null = null;

  constructor(
    private readonly db: PrismaClient,
    private readonly pubsub: PubSub,
    private readonly settings: AuthSettings,
    private readonly revocations: SessionRevocations,
  ) {}

  /** Starts hearing of sessions revoked on any instance, so their tokens fail here at once. */
  start(): void {
    if (this.revocationListener) return;
    // Not awaited: with Redis down at start-up the SUBSCRIBE waits for it, and the server must still start.
    this.revocationListener = this.pubsub.listen(topics.sessionRevoked(), (event) => this.revocations.markRevoked(event.sessionId));
    this.revocationListener.catch(() => undefined);
  }

  stop(): void {
    void this.revocationListener?.then((unsubscribe) => unsubscribe(), () => undefined);
    this.revocationListener = null;
  }

  async register(input: RegistrationInput, role: Role = 'READER'): Promise<AuthResult> {
    const clean = validateRegistration(input);
    const passwordHash = await hashPassword(clean.password);
    let user: User;
    try {
      user = await this.db.user.create({
        data: { email: clean.email, username: clean.username, displayName: clean.displayName, passwordHash, role },
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        // The constraint's columns sit in different meta fields depending on the driver adapter.
        const target = JSON.stringify(error.meta ?? {});
        const field = target.includes('username') ? 'username' : 'email';
        throw conflict(`That ${field} is already registered`, field);
      }
      throw error;
    }
    return this.startSession(user);
  }

  async login(email: string, password: string): Promise<AuthResult> {
    const user = await this.db.user.findUnique({ where: { email: email.trim().toLowerCase() } });
    const ok = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, password);
    if (!user || !ok) throw unauthenticated('Invalid email or password');
    return this.startSession(user);
  }

  /**
   * Rotation: each refresh token works once. Presenting a spent or revoked one means it leaked, so the
   * whole family (every token of that login, and its access tokens) is revoked.
   */
  async refresh(refreshToken: string): Promise<AuthResult> {
    const stored = await this.db.refreshToken.findUnique({ where: { tokenHash: hashRefreshToken(refreshToken) } });
    if (!stored) throw unauthenticated('Invalid refresh token');
    if (stored.revokedAt) throw unauthenticated('Refresh token has been revoked');
    if (stored.usedAt) {
      await this.revokeFamily(stored.familyId, stored.userId);
      throw unauthenticated('Refresh token reuse detected; the session has been revoked');
    }
    if (stored.expiresAt.getTime() <= Date.now()) throw unauthenticated('Refresh token expired');
    // Conditional update: of two concurrent refreshes with one token, exactly one wins.
    const claimed = await this.db.refreshToken.updateMany({
      where: { id: stored.id, usedAt: null, revokedAt: null },
      data: { usedAt: new Date() },
    });
    if (claimed.count !== 1) {
      await this.revokeFamily(stored.familyId, stored.userId);
      throw unauthenticated('Refresh token reuse detected; the session has been revoked');
    }
    const user = await this.db.user.findUnique({ where: { id: stored.userId } });
    if (!user) throw unauthenticated('Account no longer exists');
    return this.issue(user, stored.familyId);
  }

  /** Revokes the session the refresh token belongs to; true when one was found. */
  async logout(refreshToken: string): Promise<boolean> {
    const stored = await this.db.refreshToken.findUnique({ where: { tokenHash: hashRefreshToken(refreshToken) } });
    if (!stored) return false;
    await this.revokeFamily(stored.familyId, stored.userId);
    return true;
  }

  /** Verifies an access token and that its session was not logged out. Throws TokenError. */
  async authenticate(token: string): Promise<Viewer> {
    const claims = verifyAccessToken(this.settings, token);
    if (await this.revocations.isRevoked(claims.sessionId)) throw new TokenError('INVALID', 'Session has been revoked');
    return { id: claims.userId, role: claims.role, sessionId: claims.sessionId, tokenExpiresAt: claims.expiresAt };
  }

  /** An access token without a refresh token (CLI `token`, seed data): its own session id. */
  issueAccessToken(user: Pick<User, 'id' | 'role'>): { token: string; expiresAt: Date } {
    return signAccessToken(this.settings, { userId: user.id, role: user.role, sessionId: randomUUID() });
  }

  private startSession(user: User): Promise<AuthResult> {
    return this.issue(user, randomUUID());
  }

  private async issue(user: User, familyId: string): Promise<AuthResult> {
    const refresh = newRefreshToken();
    const refreshTokenExpiresAt = new Date(Date.now() + this.settings.refreshTtlMs);
    await this.db.refreshToken.create({
      data: { userId: user.id, familyId, tokenHash: refresh.hash, expiresAt: refreshTokenExpiresAt },
    });
    const access = signAccessToken(this.settings, { userId: user.id, role: user.role, sessionId: familyId });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: refresh.token, refreshTokenExpiresAt, user };
  }

  private async revokeFamily(familyId: string, userId: string): Promise<void> {
    await this.db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });
    this.revocations.markRevoked(familyId);
    await this.pubsub.publish(topics.sessionRevoked(), { sessionId: familyId, userId }).catch(() => undefined);
  }
}

