/**
 * Child processes the harness owns: peers (pinned to core 0) and load workers (core 1) when taskset and
 * two cores are available; CPU time and RSS read from /proc.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';

const TICKS_PER_SECOND = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return cpus().length >= 2;
  } catch {
    return false;
  }
}

export const PINNING = hasTaskset();
export const SERVER_CORE = '0';
export const LOAD_CORE = '1';

/** Prefixes a command with `taskset -c <core>` when pinning is available. */
export function pinned(core: string, command: string, args: string[]): [string, string[]] {
  return PINNING ? ['taskset', ['-c', core, command, ...args]] : [command, args];
}

/** Pins an already-running process (the harness itself runs with the load). */
export function pinSelf(core: string): void {
  if (PINNING) execFileSync('taskset', ['-pc', core, String(process.pid)], { stdio: 'ignore' });
}

/** utime + stime of a process, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is state (field 3); utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
}

export function rssKB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) : 0;
}

/** Every child the harness started, so an interrupted run does not leave servers behind. */
const live = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The pid of the program itself (taskset execs into it, so it is the same pid). */
  readonly pid: number;
  readonly ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Spawns a program that prints `READY {json}` on stdout when it serves; rejects after `timeoutMs`. */
export async function spawnReady(name: string, core: string, command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<Child> {
  const [cmd, argv] = pinned(core, command, args);
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr.push(String(chunk));
    if (stderr.length > 50) stderr.shift();
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms: ${stderr.join('').slice(-2000)}`)), timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as Record<string, unknown>);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before ready: ${stderr.join('').slice(-2000)}`));
    });
  });
  return {
    name,
    process: child,
    pid: child.pid!,
    ready,
    stop: () => stopChild(child),
  };
}

export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; returns whether it held. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}
