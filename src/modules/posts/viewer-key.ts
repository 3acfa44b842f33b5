import { createHash } from 'node:crypto';
import type { RequestOrigin } from '../../shared/request-origin.js';
import type { Viewer } from '../auth/viewer.js';

/**
 * Who a view belongs to, for "counts once per viewer": the user, else the client's own id, else a
 * hash of address and user agent (never stored raw).
 */
export function viewerKeyOf(ctx: { readonly viewer: Viewer | null; readonly origin: RequestOrigin }): string {
  if (ctx.viewer) return `user:${ctx.viewer.id}`;
  if (ctx.origin.clientId) return `anon:${ctx.origin.clientId.slice(0, 128)}`;
  const fingerprint = createHash('sha256').update(`${ctx.origin.ip ?? ''}|${ctx.origin.userAgent ?? ''}`).digest('hex').slice(0, 32);
  return `anon-ip:${fingerprint}`;
}
