/** The harness side of the load workers: spreads clients over processes and merges their reports. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import * as hdr from 'hdr-histogram-js';
import type { ClientSpec, Command, ConnectResult, LoadProtocol, LoadReport, Reply, StormReport } from '../load/protocol.js';
import { LOAD_CORE, PINNING, stopChild, track } from './proc.js';

const WORKER = fileURLToPath(new URL('../load/worker.ts', import.meta.url));
/** Well under the 20,000 open files a process may hold, and spreads the JSON/latency work. */
export const CLIENTS_PER_WORKER = 5000;

type CommandBody = Command extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  clients = 0;

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(reply.error));
    });
    child.on('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load worker exited (${code})`));
      this.pending.clear();
    });
  }

  send<T>(body: CommandBody, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`load worker did not answer ${body.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...body, id } as Command);
    });
  }
}

export interface MergedReport extends Omit<LoadReport, 'histogram'> {
  readonly histogram: hdr.Histogram;
}

export class LoadPool {
  private readonly workers: WorkerHandle[] = [];

  /** Adds clients, filling the last worker before starting another. Resolves when all are subscribed (or failed). */
  async connect(url: string, protocol: LoadProtocol, query: string, clients: readonly ClientSpec[], timeoutMs = 120_000): Promise<ConnectResult> {
    const start = Date.now();
    const jobs: Promise<ConnectResult>[] = [];
    let offset = 0;
    while (offset < clients.length) {
      let worker = this.workers.at(-1);
      if (!worker || worker.clients >= CLIENTS_PER_WORKER) worker = this.spawn();
      const take = Math.min(CLIENTS_PER_WORKER - worker.clients, clients.length - offset);
      const slice = clients.slice(offset, offset + take);
      offset += take;
      worker.clients += take;
      jobs.push(worker.send<ConnectResult>({ cmd: 'connect', url, protocol, query, clients: slice, concurrency: 64, timeoutMs }, timeoutMs + 10_000));
    }
    const results = await Promise.all(jobs);
    return {
      subscribed: results.reduce((s, r) => s + r.subscribed, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      ms: Date.now() - start,
    };
  }

  get size(): number {
    return this.workers.reduce((s, w) => s + w.clients, 0);
  }

  /** Zeroes counters and latency; events with a sequence below `fromSeq` (an earlier step's) are ignored from now on. */
  async reset(fromSeq = 0): Promise<void> {
    await Promise.all(this.workers.map((w) => w.send({ cmd: 'reset', fromSeq })));
  }

  async record(on: boolean): Promise<void> {
    await Promise.all(this.workers.map((w) => w.send({ cmd: 'record', on })));
  }

  async churn(fraction: number, periodMs: number, durationMs: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.send({ cmd: 'churn', fraction, periodMs, durationMs })));
  }

  /** Every worker drops every socket at once and reconnects them (see the worker's reconnectStorm); reports per worker. */
  async storm(fromSeq: number, timeoutMs: number): Promise<StormReport[]> {
    return Promise.all(this.workers.map((w) => w.send<StormReport>({ cmd: 'storm', fromSeq, timeoutMs }, timeoutMs + 10_000)));
  }

  async report(expected: Record<string, number> = {}): Promise<MergedReport> {
    const reports = await Promise.all(this.workers.map((w) => w.send<LoadReport>({ cmd: 'report', expected })));
    const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
    for (const r of reports) histogram.add(hdr.decodeFromCompressedBase64(r.histogram));
    const sum = (pick: (r: LoadReport) => number) => reports.reduce((s, r) => s + pick(r), 0);
    return {
      clients: sum((r) => r.clients),
      received: sum((r) => r.received),
      clientsWithAny: sum((r) => r.clientsWithAny),
      missing: sum((r) => r.missing),
      extra: sum((r) => r.extra),
      churnReceived: sum((r) => r.churnReceived),
      errors: sum((r) => r.errors),
      closedUnexpectedly: sum((r) => r.closedUnexpectedly),
      lastError: reports.find((r) => r.lastError)?.lastError ?? null,
      histogram,
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

  private spawn(): WorkerHandle {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx', '--max-old-space-size=2048'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    track(child);
    if (PINNING && child.pid) execFileSync('taskset', ['-pc', LOAD_CORE, String(child.pid)], { stdio: 'ignore' });
    const handle = new WorkerHandle(child);
    this.workers.push(handle);
    return handle;
  }
}
