/**
 * Browsers always send Origin on a WebSocket upgrade; other clients may not, and are not subject to
 * cross-site attacks, so a missing Origin is allowed. `allowed` undefined means any (development).
 */
export function isOriginAllowed(origin: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (!origin || !allowed) return true;
  if (allowed.includes('*')) return true;
  return allowed.includes(origin.replace(/\/$/, ''));
}
