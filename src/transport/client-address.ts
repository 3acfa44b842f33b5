import type { IncomingMessage } from 'node:http';

/**
 * The client's address: the socket peer, or the first untrusted hop of X-Forwarded-For when the peer
 * is a trusted proxy (anyone else could forge the header).
 */
export function clientAddress(request: Pick<IncomingMessage, 'headers' | 'socket'>, trustedProxies: readonly string[]): string | null {
  const peer = normalise(request.socket.remoteAddress ?? null);
  if (!peer || !trustedProxies.includes(peer)) return peer;
  const header = request.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => normalise(h.trim())).filter((h): h is string => !!h);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (!trustedProxies.includes(hop)) return hop;
  }
  return hops[0] ?? peer;
}

function normalise(address: string | null): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
