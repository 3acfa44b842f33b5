/**
 * Browsers always send Origin on a WebSocket upgrade; other clients may not, and are not subject to
 * cross-site attacks, so a missing Origin is allowed. `allowed` undefined means any (development).
 * The opaque origin `null` (sandboxed iframes, `file:` pages) is allowed only when listed literally:
 * `*` does not cover it, since every such page shares that one value.
 */
export function isOriginAllowed(origin: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (!origin || !allowed) return true;
  const normalised = origin.replace(/\/$/, '');
  if (allowed.includes(normalised)) return true;
  return normalised !== 'null' && allowed.includes('*');
}
