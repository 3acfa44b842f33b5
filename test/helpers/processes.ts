import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { TEST_JWT_SECRET, type TestBackend } from './test-app.js';

const ROOT = resolve(import.meta.dirname, '../..');
const START_TIMEOUT_MS = 60_000;

export interface HeraldProcess {
  readonly pid: number;
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Base URL without a path, for /health, /ready and /metrics. */
  readonly baseUrl: string;
  readonly env: Record<string, string>;
  /** Sends a signal (SIGTERM drains gracefully; SIGKILL is a crash). */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves once the process has exited (immediately when it already has). */
  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process printed so far (stdout + stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts one Herald as a real child process (`node --import tsx src/main.ts`) with PORT=0. The bound
 * port is read from main.ts's start-up log line, a pino JSON record whose `msg` is
 * "Herald listening on http://localhost:<port>/graphql" and whose `port` field is the port; LOG_LEVEL
 * is therefore at least `info` for these processes.
 */
export async function startHeraldProcess(backend: TestBackend, overrides: Record<string, string> = {}): Promise<HeraldProcess> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    JWT_SECRET: TEST_JWT_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    ...backend.env,
    ...overrides,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`Herald did not start within ${START_TIMEOUT_MS} ms:\n${output.slice(-4000)}`)), START_TIMEOUT_MS);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output = (output + text).slice(-200_000);
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const found = listeningPort(line);
        if (found !== null) {
          clearTimeout(timer);
          resolvePort(found);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`Herald exited (code ${code}, signal ${signal}) before listening:\n${output.slice(-4000)}`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return wrap(child, port, env, exited, () => output);
}

/** Starts `count` Herald processes on one backend (one database, one Redis namespace), in parallel. */
export function startHeraldProcesses(count: number, backend: TestBackend, overrides: Record<string, string> = {}): Promise<HeraldProcess[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startHeraldProcess(backend, { INSTANCE_ID: `proc-${i}-${process.pid}`, ...overrides })));
}

function listeningPort(line: string): number | null {
  if (!line.includes('Herald listening on')) return null;
  try {
    const record = JSON.parse(line) as { port?: unknown; msg?: unknown };
    if (typeof record.port === 'number') return record.port;
  } catch {
    // Not JSON (a pretty-printed log): fall back to the URL in the message.
  }
  const match = /Herald listening on http:\/\/[^:]+:(\d+)\//.exec(line);
  return match ? Number(match[1]) : null;
}

function wrap(child: ChildProcess, port: number, env: Record<string, string>, exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>, output: () => string): HeraldProcess {
  let exitedAlready = false;
  void exited.then(() => (exitedAlready = true));
  const proc: HeraldProcess = {
    pid: child.pid ?? -1,
    port,
    env,
    httpUrl: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    baseUrl: `http://127.0.0.1:${port}`,
    kill(signal = 'SIGTERM') {
      if (!exitedAlready) child.kill(signal);
    },
    waitForExit: () => exited,
    output,
    async stop(graceMs = 12_000) {
      if (exitedAlready) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return proc;
}
