import type { Role } from '../../generated/prisma/enums.js';

/** The authenticated user behind a request or socket. */
export interface Viewer {
  readonly id: string;
  readonly role: Role;
  readonly sessionId: string;
  /** When the access token stops being valid (ms since epoch); sockets close with 4403 then. */
  readonly tokenExpiresAt: number;
  /** When the access token was issued (ms since epoch): a `userAccessRevoked` event revokes tokens issued before its `revokedBefore`. */
  readonly tokenIssuedAt: number;
}

export const isStaff = (viewer: Viewer | null): boolean => viewer?.role === 'STAFF';
