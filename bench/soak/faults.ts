/**
 * `--faults`: chaos on a schedule while the soak runs: one instance SIGKILLed (and started again), our own
 * Redis killed and restarted, the database's backends terminated. Each fault's heal time runs from the fault
 * until every instance answers /ready 200, every client is subscribed again, a write sent after the fault was
 * accepted and clients on every instance received an event after the fault.
 */
import { sleep } from '../lib/proc.js';
import type { Instance, OwnRedis, SoakDatabase } from './instances.js';
import type { SoakPool } from './pool.js';
import type { Writer } from './writer.js';

export interface FaultResult {
  readonly name: string;
  /** Seconds into the soak. */
  readonly at: number;
  /** Seconds until healed; null when it did not heal within the timeout. */
  readonly healedAfter: number | null;
  readonly detail: string;
  /** Writes refused or lost (network) while it lasted. */
  readonly writesFailed: number;
}

export interface FaultContext {
  readonly instances: Instance[];
  readonly redis: OwnRedis;
  readonly db: SoakDatabase;
  readonly pool: SoakPool;
  readonly writer: Writer;
  /** Seconds since the soak started. */
  readonly now: () => number;
  readonly log: (line: string) => void;
}

const HEAL_TIMEOUT_MS = 120_000;

async function ready(instance: Instance): Promise<boolean> {
  if (!instance.running) return false;
  try {
    return (await fetch(`${instance.baseUrl}/ready`, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

/** Seconds from `since` (ms) until everything is back, or null. */
async function healTime(ctx: FaultContext, since: number): Promise<number | null> {
  const deadline = Date.now() + HEAL_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const readies = await Promise.all(ctx.instances.map(ready));
    const status = await ctx.pool.status();
    if (readies.every(Boolean) && status.live === status.clients && ctx.writer.lastAcceptedSentAt > since && status.lastReceivedAt.every((at) => at > since)) {
      return (Date.now() - since) / 1000;
    }
    await sleep(250);
  }
  return null;
}

const failedWrites = (writer: Writer) => Object.values(writer.failed).reduce((a, b) => a + b, 0);

async function measure(ctx: FaultContext, name: string, act: () => Promise<string>): Promise<FaultResult> {
  const at = ctx.now();
  const since = Date.now();
  const failedBefore = failedWrites(ctx.writer);
  ctx.log(`  fault at ${at.toFixed(0)} s: ${name}`);
  const detail = await act();
  const healedAfter = await healTime(ctx, since);
  const result = { name, at, healedAfter, detail, writesFailed: failedWrites(ctx.writer) - failedBefore };
  ctx.log(`  ${name}: ${detail}; healed after ${healedAfter === null ? `more than ${HEAL_TIMEOUT_MS / 1000} s` : `${healedAfter.toFixed(1)} s`}, ${result.writesFailed} writes failed meanwhile`);
  return result;
}

export function killInstance(ctx: FaultContext): Promise<FaultResult> {
  const victim = ctx.instances.at(-1)!;
  return measure(ctx, `SIGKILL ${victim.name}, restarted`, async () => {
    await victim.kill();
    const killedAt = Date.now();
    await victim.restart();
    return `back (listening) ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`;
  });
}

export function restartRedis(ctx: FaultContext, downMs = 3000): Promise<FaultResult> {
  return measure(ctx, 'Redis killed and restarted', async () => {
    await ctx.redis.down();
    await sleep(downMs);
    await ctx.redis.up();
    return `down ${downMs / 1000} s (SIGKILL, empty on restart: no persistence)`;
  });
}

export function databaseBlip(ctx: FaultContext): Promise<FaultResult> {
  return measure(ctx, 'database backends terminated', async () => {
    const n = await ctx.db.terminateBackends();
    return `pg_terminate_backend on ${n} connections of the soak database`;
  });
}

/** The fault schedule as fractions of the run: after warm-up, and leaving the last quarter quiet. */
export const SCHEDULE = [
  { at: 0.3, run: killInstance },
  { at: 0.5, run: restartRedis },
  { at: 0.7, run: databaseBlip },
] as const;
