import type { Role } from '../../generated/prisma/enums.js';

/** The authenticated user behind a request or socket. */
export interface Viewer {
  readonly id: string;
  readonly role: Role;
  readonly sessionId: string;
  /** When the access token stops being valid (ms since epoch); sockets close with 4403 then. */
  readonly tokenExpiresAt: number;
}

export const isStaff = (viewer: Viewer | null): boolean => viewer?.role === 'STAFF';
