import type { Context } from './context.js';

/**
 * Whom a rate limit counts: the signed-in user, else the caller's address (through TRUSTED_PROXIES).
 * Never a value the caller picks (a client id header can be rotated at will).
 */
export function limitSubject(ctx: Pick<Context, 'viewer' | 'origin'>): string {
  return ctx.viewer ? `u:${ctx.viewer.id}` : `ip:${ctx.origin.ip ?? 'unknown'}`;
}

/** The caller's address as a limit key, signed in or not. */
export function addressSubject(ctx: Pick<Context, 'origin'>): string {
  return `ip:${ctx.origin.ip ?? 'unknown'}`;
}
