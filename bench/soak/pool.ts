/** The harness side of the soak's client workers: spreads clients over processes, merges what they say. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { stopChild, track } from '../lib/proc.js';
import type { Command, ConnectResult, Reply, SoakClientSpec, SubscriberReport, WorkerStatus, Written } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** Under the 20,000 open files a process may hold; three or four processes also spread the JSON work. */
export const CLIENTS_PER_WORKER = 3500;

type Body = Command extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Reply) => void>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    child.on('exit', (code) => {
      for (const answer of this.pending.values()) answer({ id: 0, ok: false, error: `soak worker exited (${code})` });
      this.pending.clear();
    });
  }

  send<T>(body: Body, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`soak worker did not answer ${body.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.ok) resolve(reply.result as T);
        else reject(new Error(reply.error));
      });
      this.child.send({ ...body, id } as Command);
    });
  }
}

export interface PoolStatus {
  readonly clients: number;
  readonly live: number;
  readonly received: number;
  readonly lastReceivedAt: number[];
  readonly counters: Record<string, number>;
  readonly lastError: string | null;
  readonly lastUnstamped: string | null;
}

export interface MergedReport extends Omit<SubscriberReport, 'histograms'> {
  readonly histogram: hdr.Histogram;
  readonly histograms: Record<string, hdr.Histogram>;
}

export class SoakPool {
  private readonly workers: Worker[] = [];

  async connect(urls: string[], resume: boolean, clients: SoakClientSpec[], tokens: string[], timeoutMs = 300_000): Promise<ConnectResult> {
    const start = Date.now();
    const jobs: Promise<ConnectResult>[] = [];
    for (let offset = 0; offset < clients.length; offset += CLIENTS_PER_WORKER) {
      const worker = this.spawn();
      const slice = clients.slice(offset, offset + CLIENTS_PER_WORKER);
      jobs.push(worker.send<ConnectResult>({ cmd: 'connect', urls, resume, clients: slice, tokens, concurrency: 32, timeoutMs }, timeoutMs + 10_000));
    }
    const results = await Promise.all(jobs);
    return { connected: results.reduce((s, r) => s + r.connected, 0), failed: results.reduce((s, r) => s + r.failed, 0), ms: Date.now() - start };
  }

  async tokens(tokens: Record<number, string>): Promise<void> {
    await Promise.all(this.workers.map((w) => w.send({ cmd: 'tokens', tokens })));
  }

  async churn(reconnectShare: number, resubscribeShare: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.send({ cmd: 'churn', reconnectShare, resubscribeShare })));
  }

  async status(): Promise<PoolStatus> {
    const all = await Promise.all(this.workers.map((w) => w.send<WorkerStatus>({ cmd: 'status' })));
    const counters: Record<string, number> = {};
    for (const s of all) for (const [k, v] of Object.entries(s.counters)) counters[k] = (counters[k] ?? 0) + v;
    return {
      clients: all.reduce((s, r) => s + r.clients, 0),
      live: all.reduce((s, r) => s + r.live, 0),
      received: all.reduce((s, r) => s + r.received, 0),
      lastReceivedAt: (all[0]?.lastReceivedAt ?? []).map((_, i) => Math.max(...all.map((r) => r.lastReceivedAt[i] ?? 0))),
      counters,
      lastError: all.find((s) => s.lastError)?.lastError ?? null,
      lastUnstamped: all.find((s) => s.lastUnstamped)?.lastUnstamped ?? null,
    };
  }

  async report(written: Record<string, Written[]>): Promise<MergedReport> {
    const all = await Promise.all(this.workers.map((w) => w.send<SubscriberReport>({ cmd: 'report', written }, 120_000)));
    const build = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
    const histogram = build();
    const histograms: Record<string, hdr.Histogram> = {};
    for (const r of all) {
      for (const [kind, encoded] of Object.entries(r.histograms)) {
        const h = hdr.decodeFromCompressedBase64(encoded);
        histogram.add(h);
        (histograms[kind] ??= build()).add(h);
      }
    }
    const sum = (pick: (r: SubscriberReport) => number) => all.reduce((s, r) => s + pick(r), 0);
    const byKind: SubscriberReport['byKind'] = {};
    for (const r of all) {
      for (const [kind, v] of Object.entries(r.byKind)) {
        const into = (byKind[kind] ??= { clients: 0, expected: 0, missing: 0, duplicates: 0 });
        into.clients += v.clients;
        into.expected += v.expected;
        into.missing += v.missing;
        into.duplicates += v.duplicates;
      }
    }
    return {
      clients: sum((r) => r.clients),
      expected: sum((r) => r.expected),
      received: sum((r) => r.received),
      missing: sum((r) => r.missing),
      duplicates: sum((r) => r.duplicates),
      unmatched: sum((r) => r.unmatched),
      stale: sum((r) => r.stale),
      clientsMissing: sum((r) => r.clientsMissing),
      worstMissing: Math.max(0, ...all.map((r) => r.worstMissing)),
      missingPerClient: (all[0]?.missingPerClient ?? []).map((_, i) => all.reduce((s, r) => s + (r.missingPerClient[i] ?? 0), 0)),
      perClient: all.flatMap((r) => r.perClient).sort((a, b) => a[0] - b[0]),
      byKind,
      histogram,
      histograms,
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.splice(0).map(async (w) => {
        await w.send({ cmd: 'close' }, 5000).catch(() => undefined);
        await stopChild(w.child, 3000);
      }),
    );
  }

  private spawn(): Worker {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx', '--max-old-space-size=2048'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    track(child);
    const worker = new Worker(child);
    this.workers.push(worker);
    return worker;
  }
}
