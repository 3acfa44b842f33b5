import logUpdate from 'log-update';
import { loadConfig } from '../shared/config.js';
import { parseOptions, positiveNumber, type CliCommand } from './command.js';
import { graphqlHttpUrl } from './graphql-http.js';
import { fetchConnectionStats, fetchMetrics, summariseMetrics, type MetricsSummary } from './monitor-sources.js';
import { renderValue } from './render.js';

const usage = `Usage: npm run cli -- monitor [--continuous] [--interval 30] [--url http://localhost:4000/graphql] [--token T]

Prints the server's WebSocket activity: open connections by instance and by user, subscriptions by
field, and messages delivered per second.
  --token        a STAFF access token (npm run cli -- token --user <staff email>); needed for the
                 deployment-wide view (connectionStats: every instance, per user). Without it only the
                 /metrics of the one instance behind --url are shown.
  --continuous   refresh in place every --interval seconds until Ctrl-C
  --interval     seconds between refreshes (default 30; also the window of the messages/s rate)
  --url          the server's GraphQL endpoint (default http://localhost:$PORT/graphql)`;

interface Sample {
  readonly at: number;
  readonly metrics: MetricsSummary | null;
  readonly stats: { data: Record<string, unknown> } | { error: string } | null;
}

export const monitorCommand: CliCommand = {
  name: 'monitor',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, {
      continuous: { type: 'boolean', short: 'c' },
      interval: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
    });
    const intervalMs = positiveNumber(values.interval, 'interval', 30) * 1000;
    const url = graphqlHttpUrl(values.url ?? `http://localhost:${loadConfig().port}/graphql`);
    const take = async (): Promise<Sample> => {
      const [metrics, stats] = await Promise.all([
        fetchMetrics(url.origin).then((m) => (m ? summariseMetrics(m) : null)),
        values.token ? fetchConnectionStats(url.toString(), values.token) : Promise.resolve(null),
      ]);
      return { at: Date.now(), metrics, stats };
    };

    if (!values.continuous) {
      const first = await take();
      // A rate needs two readings: a short second one rather than making a one-shot wait a full interval.
      const second = first.metrics ? await delay(1000).then(take) : null;
      process.stdout.write(`${render(url, second ?? first, second ? first : null)}\n`);
      return first.metrics || (first.stats && 'data' in first.stats) ? 0 : 1;
    }

    let stopped = false;
    const stop = new Promise<void>((resolve) =>
      process.once('SIGINT', () => {
        stopped = true;
        resolve();
      }),
    );
    let previous: Sample | null = null;
    while (!stopped) {
      const current = await take();
      logUpdate(`${render(url, current, previous)}\n\nRefreshing every ${intervalMs / 1000}s; Ctrl-C to stop.`);
      previous = current;
      await Promise.race([delay(intervalMs), stop]);
    }
    logUpdate.done();
    return 0;
  },
};

function render(url: URL, now: Sample, before: Sample | null): string {
  const lines = [`Herald monitor: ${url.toString()} at ${new Date(now.at).toISOString()}`, ''];
  if (now.metrics) {
    const m = now.metrics;
    lines.push('This instance (/metrics):');
    lines.push(`  open connections: ${m.openConnections ?? 'n/a'}`);
    const subs = [...m.subscriptionsByField].map(([field, n]) => `${field}=${n}`).join(' ');
    lines.push(`  subscriptions: ${subs || 'none'}`);
    lines.push(`  messages/s: ${rate(now, before) ?? 'n/a (needs two readings)'}`);
  } else {
    lines.push('This instance: no /metrics (not served, or the server is unreachable).');
  }
  lines.push('');
  if (!now.stats) lines.push('Deployment (connectionStats): pass --token with a STAFF token for every instance and user.');
  else if ('error' in now.stats) lines.push(`Deployment (connectionStats): ${now.stats.error}`);
  else {
    lines.push('Deployment (connectionStats):');
    lines.push(renderValue(now.stats.data, '  '));
  }
  return lines.join('\n');
}

function rate(now: Sample, before: Sample | null): string | null {
  const a = before?.metrics?.messagesTotal;
  const b = now.metrics?.messagesTotal;
  if (a == null || b == null || !before) return null;
  const seconds = (now.at - before.at) / 1000;
  return seconds > 0 ? (Math.max(0, b - a) / seconds).toFixed(1) : null;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
