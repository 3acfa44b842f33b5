import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeraldMetrics } from '../../metrics/metrics.js';

/**
 * `GET /metrics`: Prometheus text format for scrapers. Like /health it needs no token, so expose it
 * only on the internal network (or block the path at the load balancer). Returns true when handled.
 */
export async function handleMetrics(req: IncomingMessage, res: ServerResponse, metrics: HeraldMetrics): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if ((req.url ?? '/').split('?')[0] !== '/metrics') return false;
  const { contentType, body } = await metrics.render();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
