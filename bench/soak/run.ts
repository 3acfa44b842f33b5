/**
 * `npm run soak [-- --minutes 10 --clients 10000 --faults]` (not in CI; bounded, stops by itself): two Herald
 * instances on a fresh PostgreSQL database and our own Redis hold the clients' authenticated sockets for the
 * whole run with churn (reconnects, complete/subscribe, token expiries and renewals) and steady durable events
 * written through the API; memory of each instance is read from its /metrics over time. Writes
 * bench/results/soak[-faults].{md,json,svg}. See bench/README.md ("Soak").
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { killAll, sleep } from '../lib/proc.js';
import { Api, TokenBook } from './accounts.js';
import { renderChart, type Marker } from './chart.js';
import { DURABLE, INTROSPECT_AFTER } from './documents.js';
import { SCHEDULE, type FaultResult } from './faults.js';
import { createDatabase, Instance, OwnRedis, type SoakDatabase } from './instances.js';
import { parseOptions } from './options.js';
import { SoakPool } from './pool.js';
import type { SoakClientSpec } from './protocol.js';
import { memoryFigures, renderSummary, type SoakSummary } from './report.js';
import { sample, type Sample } from './sampler.js';
import { Writer } from './writer.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const options = parseOptions(fileURLToPath(new URL('../results/', import.meta.url)));
const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const name = options.faults ? 'soak-faults' : 'soak';
/** What an interrupted run must still undo: our redis-server and the soak database. */
let undo: (() => Promise<void>) | null = null;

async function resumeSupported(api: Api): Promise<boolean> {
  const data = await api.ok<{ __type: { fields: { name: string; args: { name: string }[] }[] } }>(INTROSPECT_AFTER, {});
  return DURABLE.every((kind) => data.__type.fields.find((f) => f.name === kind)?.args.some((a) => a.name === 'after'));
}

function clientSpecs(count: number, readers: number, postIds: string[]): SoakClientSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const kind = DURABLE[Math.floor(i / 2) % DURABLE.length]!;
    return {
      index: i,
      user: i % readers,
      home: i % 2,
      kind,
      postId: kind === 'notifications' ? null : postIds[Math.floor(i / 6) % postIds.length]!,
      // A spread that does not line up with home or kind.
      renews: ((i * 7919) % 1000) / 1000 >= options.expiringShare,
    };
  });
}

/** Runs the CLI's cleanup against our database, with the timeouts the instances ran with. */
function cleanup(db: SoakDatabase): string {
  try {
    return execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'cleanup'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url, WS_CONNECTION_TIMEOUT: '60s' }, encoding: 'utf8', timeout: 60_000 }).trim().split('\n').at(-1) ?? '';
  } catch (error) {
    return `cleanup failed: ${String(error).slice(0, 200)}`;
  }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const durationS = options.minutes * 60;
  const db = await createDatabase();
  const redis = await OwnRedis.start();
  undo = async () => {
    await redis.down().catch(() => undefined);
    await db.drop().catch(() => undefined);
  };
  const instances: Instance[] = [];
  const pool = new SoakPool();
  let book: TokenBook | null = null;
  try {
    log(`soak: ${options.clients} clients for ${options.minutes} min${options.faults ? ' with faults' : ''}; database ${db.name}, own redis ${redis.url}`);
    const common = { databaseUrl: db.url, redisUrl: redis.url, accessTtl: `${options.tokenTtlSeconds}s`, redisPrefix: `hsoak${process.pid}:` };
    instances.push(await Instance.start('soak-A', common));
    instances.push(await Instance.start('soak-B', common));
    const api = new Api(instances.map((i) => i.baseUrl));
    const resume = await resumeSupported(api);
    log(`instances up (${instances.map((i) => i.port).join(', ')}); durable subscriptions ${resume ? 'take `after`: clients resume from their last eventId' : 'have no `after` argument: clients resubscribe without a cursor'}`);
    book = new TokenBook(api);
    const readers = Math.max(2, Math.ceil(options.clients / options.socketsPerReader));
    await book.setUp(readers, options.posts, db.url, log);
    const samples: Sample[] = [];
    let t0 = Date.now();
    const now = () => (Date.now() - t0) / 1000;
    for (const instance of instances) instance.gc();
    await sleep(1000);
    for (const instance of instances) {
      const s = await sample(instance, -1, true);
      if (s) samples.push(s);
    }

    const connect = await pool.connect(instances.map((i) => i.wsUrl), resume, clientSpecs(options.clients, readers, book.postIds), book.readers.map((r) => r.access));
    log(`connected ${connect.connected}/${options.clients} in ${(connect.ms / 1000).toFixed(1)} s (${connect.failed} failed at first)`);
    t0 = Date.now();
    let pendingTokens: Record<number, string> = {};
    book.startRefreshing((options.tokenTtlSeconds * 1000) / 3, (i, token) => (pendingTokens[i] = token));
    const tokenFlush = setInterval(() => {
      const batch = pendingTokens;
      pendingTokens = {};
      if (Object.keys(batch).length) void pool.tokens(batch).catch(() => undefined);
    }, 1000);
    const writer = new Writer(api, book);
    writer.start(options);
    await pool.churn(options.reconnectShare, options.resubscribeShare);

    const markers: Marker[] = [{ t: options.warmupMinutes * 60, label: 'warm-up ends' }];
    const faults: FaultResult[] = [];
    const faultRun = (async () => {
      if (!options.faults) return;
      const ctx = { instances, redis, db, pool, writer, now, log };
      for (const step of SCHEDULE) {
        while (now() < step.at * durationS) await sleep(250);
        markers.push({ t: now(), label: step.run.name });
        faults.push(await step.run(ctx));
      }
    })();

    let nextGc = options.gcEverySeconds;
    let nextLog = 30;
    while (now() < durationS) {
      const gc = now() >= nextGc;
      if (gc) {
        for (const instance of instances) instance.gc();
        await sleep(1000);
        nextGc += options.gcEverySeconds;
      }
      for (const s of await Promise.all(instances.map((i) => sample(i, now(), gc)))) if (s) samples.push(s);
      if (now() >= nextLog) {
        nextLog += 30;
        const st = await pool.status();
        const mem = instances.map((i) => samples.filter((s) => s.instance === i.name).at(-1)).map((s) => (s ? `${s.instance} ${s.rssMB} MB rss / ${s.heapUsedMB} MB heap / ${s.sockets} sockets` : 'down'));
        log(`t=${now().toFixed(0)} s: ${st.live}/${st.clients} live, ${st.received} events received, ${writer.total} writes; ${mem.join('; ')}`);
      }
      await sleep(options.sampleSeconds * 1000);
    }
    await faultRun;

    log('stopping churn and writes; draining');
    await pool.churn(0, 0);
    await writer.stop();
    book.stop();
    clearInterval(tokenFlush);
    let last = -1;
    for (let k = 0; k < 60; k++) {
      const st = await pool.status();
      if (st.received === last && st.live === st.clients) break;
      last = st.received;
      await sleep(2000);
    }
    for (const instance of instances) instance.gc();
    await sleep(1000);
    for (const s of await Promise.all(instances.map((i) => sample(i, now(), true)))) if (s) samples.push(s);
    const endS = now();

    const status = await pool.status();
    const merged = await pool.report(writer.written);
    const socketsOpen = Object.fromEntries(instances.map((i) => [i.name, samples.filter((s) => s.instance === i.name).at(-1)?.sockets ?? 0]));
    const withClients = await db.openRecords();
    await pool.close();
    // Closing thousands of records takes the instances a moment: wait until the count stops falling (≤ 30 s).
    let afterClientsLeft = await db.openRecords();
    for (let k = 0; k < 15; k++) {
      await sleep(2000);
      const again = await db.openRecords();
      const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
      const stable = total(again) === total(afterClientsLeft);
      afterClientsLeft = again;
      if (stable) break;
    }
    const cpu = instances.map((i) => ({ instance: i.name, cpuSeconds: samples.filter((s) => s.instance === i.name).at(-1)?.cpuSeconds ?? 0 }));
    await Promise.all(instances.map((i) => i.stop()));
    const afterStop = await db.openRecords();
    // Rows a gracefully stopped process left open (a killed one's are expected until cleanup).
    const leftByStopped = await db.openRecordRows(instances.map((i) => i.instanceId));
    const leftOpen = Object.values(afterStop).reduce((a, b) => a + b, 0) > 0;
    const cleanupOutput = leftOpen ? cleanup(db) : null;
    const afterCleanup = leftOpen ? await db.openRecords() : null;

    const ms = (us: number) => Math.round(us / 100) / 10;
    const latency = (h: typeof merged.histogram) => ({ p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue) });
    const { histogram, histograms, ...events } = merged;
    const summary: SoakSummary = {
      command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt,
      machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, shared with other work`,
      settings: { clients: options.clients, minutes: options.minutes, faults: options.faults, resume, warmupMinutes: options.warmupMinutes, JWT_ACCESS_TTL: `${options.tokenTtlSeconds}s`, expiringShare: options.expiringShare, reconnectPerSec: options.reconnectShare, resubscribePerSec: options.resubscribeShare, updatesPerSec: options.updatesPerSec, commentsPerSec: options.commentsPerSec, alertsPerSec: options.alertsPerSec, posts: options.posts, readers },
      connect: { clients: options.clients, connected: connect.connected, failed: connect.failed, seconds: connect.ms / 1000, perSecond: (connect.connected / connect.ms) * 1000 },
      memory: instances.map((i) => memoryFigures(i.name, samples, options.warmupMinutes * 60, endS, i.restarts ? (markers.find((m) => m.label === 'killInstance')?.t ?? 0) + 60 : 0)),
      cpu,
      writes: { accepted: { ...writer.accepted }, failed: { ...writer.failed }, skippedBusy: writer.skippedBusy, lastError: writer.lastError },
      events: { ...events, latencyMs: latency(histogram), latencyByKind: Object.fromEntries(Object.entries(histograms).map(([k, h]) => [k, latency(h)])) },
      clientCounters: status.counters,
      tokenRefreshes: { ok: book.refreshes, failed: book.refreshErrors, lastError: book.lastRefreshError },
      records: { withClients, socketsOpen, afterClientsLeft, afterStop, afterCleanup, cleanupOutput, leftByStopped },
      faults,
      lastClientError: status.lastError,
      lastUnstamped: status.lastUnstamped,
      serverLog: instances.map((i) => ({ instance: i.name, file: i.logFile, logged: i.logged })),
    };
    mkdirSync(options.out, { recursive: true });
    const markdown = renderSummary(summary);
    writeFileSync(`${options.out}/${name}.md`, markdown);
    writeFileSync(`${options.out}/${name}.json`, JSON.stringify({ ...summary, samples, markers }, null, 2));
    writeFileSync(`${options.out}/${name}.svg`, renderChart(`Herald soak: ${options.clients} sockets, 2 instances, ${options.minutes} min${options.faults ? ', faults' : ''}`, samples, markers, Math.ceil(endS / 60) * 60));
    process.stdout.write(`\n${markdown}\n`);
    log(`wrote ${options.out}${name}.{md,json,svg}`);
  } finally {
    book?.stop();
    await pool.close().catch(() => undefined);
    await Promise.all(instances.map((i) => i.stop().catch(() => undefined)));
    await redis.down().catch(() => undefined);
    await db.drop().catch((error: unknown) => log(`could not drop ${db.name}: ${String(error)}`));
  }
}

process.on('SIGINT', () => {
  killAll();
  const exit = setTimeout(() => process.exit(130), 10_000);
  void (undo?.() ?? Promise.resolve()).finally(() => {
    clearTimeout(exit);
    process.exit(130);
  });
});
main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`soak failed: ${error instanceof Error ? error.stack : String(error)}`);
    killAll();
    process.exit(1);
  },
);
