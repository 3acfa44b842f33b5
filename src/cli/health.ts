import { loadConfig } from '../shared/config.js';
import { parseOptions, UsageError, type CliCommand } from './command.js';

const usage = `Usage: npm run cli -- health [--url http://localhost:4000] [--timeout 5]

Prints what the server's readiness probe (GET /ready) returns: database and Redis status, instance id,
uptime. Exit code 0 when ready, 1 when degraded (HTTP 503), 2 when unreachable or not a Herald server.
  --url       the server (any URL on it; /graphql is fine). Default http://localhost:$PORT
  --timeout   seconds to wait for an answer`;

export const healthCommand: CliCommand = {
  name: 'health',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { url: { type: 'string' }, timeout: { type: 'string', default: '5' } });
    const timeoutMs = Number(values.timeout) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout expects seconds above 0, got "${values.timeout}"`);
    const readyUrl = readinessUrl(values.url ?? `http://localhost:${loadConfig().port}`);
    let response: Response;
    try {
      response = await fetch(readyUrl, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      process.stderr.write(`UNREACHABLE ${readyUrl}: ${cause}\n`);
      return 2;
    }
    const text = await response.text();
    let report: Record<string, unknown>;
    try {
      report = JSON.parse(text) as Record<string, unknown>;
    } catch {
      process.stderr.write(`UNEXPECTED ${readyUrl} answered HTTP ${response.status} without a JSON health report\n`);
      return 2;
    }
    const healthy = response.status === 200 && report.status === 'OK';
    const fields = ['database', 'redis', 'instanceId', 'uptimeSeconds', 'timestamp']
      .filter((k) => k in report)
      .map((k) => `${k}=${String(report[k])}`);
    process.stdout.write(`${healthy ? 'OK' : String(report.status ?? 'UNHEALTHY')} ${readyUrl} ${fields.join(' ')}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return healthy ? 0 : 1;
  },
};

/** `/ready` on the same origin as whatever URL the operator gave (http or ws, with or without /graphql). */
export function readinessUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given.includes('://') ? given : `http://${given}`);
  } catch {
    throw new UsageError(`--url is not a URL: "${given}"`);
  }
  const protocol = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:';
  return `${protocol}//${url.host}/ready`;
}
