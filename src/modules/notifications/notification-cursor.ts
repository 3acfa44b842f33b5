import { badInput } from '../../shared/errors.js';

/** A position in the newest-first list: notifications are ordered by (createdAt desc, id desc). */
export interface NotificationCursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** Opaque to clients; keyset (not offset) so a page stays right while new notifications arrive. */
export function encodeCursor(position: NotificationCursor): string {
  return Buffer.from(`${position.createdAt.toISOString()}|${position.id}`, 'utf8').toString('base64url');
}

/** BAD_USER_INPUT for anything `encodeCursor` did not produce. */
export function decodeCursor(cursor: string): NotificationCursor {
  const [iso, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (extra !== undefined || !id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(createdAt.getTime())) {
    throw badInput('Invalid cursor', 'after');
  }
  return { createdAt, id };
}

/** Prisma condition for "strictly after this cursor" in newest-first order. */
export function olderThan(cursor: NotificationCursor) {
  return { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] };
}

/** Newest-first comparison matching the query order, for merging the two sources of a page. */
export function newestFirst(a: NotificationCursor, b: NotificationCursor): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
