import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthReport } from '../../modules/health/health.service.js';

/**
 * HTTP probes for load balancers and orchestrators: `/health` is liveness (the process answers),
 * `/ready` is readiness (database and Redis reachable; 503 otherwise). Returns true when handled.
 */
export async function handleProbe(req: IncomingMessage, res: ServerResponse, report: () => Promise<HealthReport>): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') {
    send(res, 200, { status: 'ok' });
    return true;
  }
  if (path === '/ready') {
    const health = await report();
    send(res, health.status === 'OK' ? 200 : 503, health);
    return true;
  }
  return false;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
