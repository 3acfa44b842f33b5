import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../data/db.js';
import type { User } from '../../generated/prisma/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import { Prisma } from '../../generated/prisma/client.js';
import { conflict, notFound, unauthenticated } from '../../shared/errors.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import type { SessionRevocations } from './session-revocations.js';
import { AccessRevocations } from './access-revocations.js';
import {
  TokenError,
  hashRefreshToken,
  newRefreshToken,
  signAccessToken,
  type TokenSettings,
} from './tokens.js';
import { VerifiedTokens } from './verified-tokens.js';
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
  /** Listeners to other instances' revocations (sessions logged out, users whose role changed). */
  private listeners: Promise<() => void>[] = [];
  private readonly verifiedTokens: VerifiedTokens;

  constructor(
    private readonly db: PrismaClient,
    private readonly pubsub: PubSub,
    private readonly settings: AuthSettings,
    private readonly revocations: SessionRevocations,
    private readonly access: AccessRevocations = new AccessRevocations(db),
  ) {
    this.verifiedTokens = new VerifiedTokens(settings);
  }

  /**
   * Starts hearing of sessions revoked and roles changed on any instance, so their tokens fail here at
   * once. Not awaited: with Redis down at start-up the SUBSCRIBE waits for it, and the server must still
   * start; should listening fail, cached answers still lapse within seconds (slower, not wrong).
   */
  start(): void {
    if (this.listeners.length > 0) return;
    this.listeners = [this.pubsub.listen(topics.sessionRevoked(), (event) => this.revocations.markRevoked(event.sessionId)), this.access.listen(this.pubsub)];
    for (const listener of this.listeners) listener.catch(() => undefined);
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

  /**
   * Verifies an access token, that its session was not logged out, and that it was issued after the
   * user's latest role change (so a demotion takes effect on the next request, not when the token
   * expires). Throws TokenError.
   */
  async authenticate(token: string): Promise<Viewer> {
    const claims = this.verifiedTokens.verify(token);
    const [revoked, revokedBefore] = await Promise.all([this.revocations.isRevoked(claims.sessionId), this.access.revokedBefore(claims.userId)]);
    if (revoked) throw new TokenError('INVALID', 'Session has been revoked');
    if (claims.issuedAt < revokedBefore) throw new TokenError('INVALID', 'Access token predates a change to this account (its role); refresh it');
    return { id: claims.userId, role: claims.role, sessionId: claims.sessionId, tokenExpiresAt: claims.expiresAt, tokenIssuedAt: claims.issuedAt };
  }

  /** An access token without a refresh token (CLI `token`, seed data): its own session id. */
  issueAccessToken(user: Pick<User, 'id' | 'role'> & Partial<Pick<User, 'accessRevokedBefore'>>): { token: string; expiresAt: Date } {
    return signAccessToken(this.settings, { userId: user.id, role: user.role, sessionId: randomUUID() }, issueTime(user));
  }

  /**
   * Changes a user's role and revokes their access tokens issued until now (refresh tokens keep working
   * and get the new role). After the write commits, every instance hears `userAccessRevoked`: it stops
   * accepting the old tokens at once, and live sockets authenticated with them can be closed. Setting
   * the role a user already has changes nothing. NOT_FOUND for an unknown user.
   */
  async changeRole(userId: string, role: Role): Promise<User> {
    const revokedBefore = new Date();
    const changed = await this.db.user.updateMany({ where: { id: userId, role: { not: role } }, data: { role, accessRevokedBefore: revokedBefore } });
    const user = await this.db.user.findUnique({ where: { id: userId } });
    if (!user) throw notFound('User');
    if (changed.count > 0) {
      this.access.markRevoked(userId, revokedBefore.getTime());
      await this.pubsub.publish(topics.userAccessRevoked(), { userId, revokedBefore: revokedBefore.getTime(), reason: 'ROLE_CHANGED' }).catch(() => undefined);
    }
    return user;
  }

  /** Stops listening for other instances' revocations. */
  stop(): void {
    for (const listener of this.listeners.splice(0)) void listener.then((unsubscribe) => unsubscribe(), () => undefined);
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
    const access = signAccessToken(this.settings, { userId: user.id, role: user.role, sessionId: familyId }, issueTime(user));
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: refresh.token, refreshTokenExpiresAt, user };
  }

  private async revokeFamily(familyId: string, userId: string): Promise<void> {
    await this.db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });
    this.revocations.markRevoked(familyId);
    await this.pubsub.publish(topics.sessionRevoked(), { sessionId: familyId, userId }).catch(() => undefined);
  }
}

/**
 * Now, but never before the user's revocation cutoff: with clocks of instances a few ms apart, a token
 * signed right after a role change elsewhere must not count as older than that change.
 */
function issueTime(user: Partial<Pick<User, 'accessRevokedBefore'>>, now = Date.now()): number {
  return Math.max(now, user.accessRevokedBefore?.getTime() ?? 0);
}
