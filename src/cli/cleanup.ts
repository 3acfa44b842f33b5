import { MultiBar, Presets } from 'cli-progress';
import { loadConfig } from '../shared/config.js';
import { ConnectionCleanupService, type CleanupPhase } from '../modules/connections/cleanup.service.js';
import { parseOptions, positiveNumber, type CliCommand } from './command.js';

const HOUR_MS = 3_600_000;

const usage = `Usage: npm run cli -- cleanup [--hours 24] [--batch-size 1000]

Maintains WebSocket connection records (the same pass every server runs every WS_CLEANUP_INTERVAL):
  1. finalises records left open by dead instances: open, and not seen for longer than
     WS_CONNECTION_TIMEOUT plus max(1 minute, 2 x WS_HEARTBEAT_INTERVAL) (closed at their last-seen
     time, close code 1006);
  2. deletes closed records older than --hours (default: WS_CLEANUP_RETENTION).
Shows a progress bar per phase on a terminal and ends with a one-line summary.
If a server is running its own pass at that moment, this one is skipped (exit 0).
  --hours        retention in hours (fractions allowed)
  --batch-size   rows per statement`;

const LABELS: Record<CleanupPhase, string> = { finalise: 'finalise stale', delete: 'delete closed ' };

export const cleanupCommand: CliCommand = {
  name: 'cleanup',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { hours: { type: 'string' }, 'batch-size': { type: 'string' } });
    const config = loadConfig();
    const retentionMs = positiveNumber(values.hours, 'hours', config.ws.cleanupRetentionMs / HOUR_MS) * HOUR_MS;
    const batchSize = positiveNumber(values['batch-size'], 'batch-size', 1000, true);

    const { withDatabase } = await import('./database.js');
    const progress = process.stderr.isTTY ? terminalProgress() : lineProgress();
    const result = await withDatabase(config, (db) =>
      new ConnectionCleanupService(db).run({
        retentionMs,
        staleAfterMs: ConnectionCleanupService.staleAfterFor(config.ws.connectionTimeoutMs, config.ws.heartbeatIntervalMs),
        batchSize,
        onProgress: progress.update,
      }),
    ).finally(progress.stop);

    if (result.skipped) {
      process.stdout.write('Cleanup skipped: another instance is running a cleanup pass right now.\n');
      return 0;
    }
    process.stdout.write(
      `Cleanup done: finalised ${result.finalised} stale open record(s) (not seen since ${result.staleCutoff.toISOString()}), ` +
        `deleted ${result.deleted} closed record(s) older than ${result.retentionCutoff.toISOString()} in ${result.ms} ms.\n`,
    );
    return 0;
  },
};

interface Progress {
  update(phase: CleanupPhase, done: number, total: number): void;
  stop(): void;
}

/** One bar per phase, redrawn in place (on stderr, so stdout carries only the summary). */
function terminalProgress(): Progress {
  const bars = new MultiBar({ stream: process.stderr, format: '{phase} [{bar}] {value}/{total} rows', hideCursor: true }, Presets.shades_classic);
  const byPhase = new Map<CleanupPhase, ReturnType<MultiBar['create']>>();
  return {
    update(phase, done, total) {
      let bar = byPhase.get(phase);
      if (!bar) {
        bar = bars.create(Math.max(total, 1), 0, { phase: LABELS[phase] });
        byPhase.set(phase, bar);
      }
      // An empty phase shows as a full bar "0/0": done, nothing to do.
      bar.setTotal(Math.max(total, 1));
      bar.update(total === 0 ? 1 : done, { phase: LABELS[phase] });
    },
    stop: () => bars.stop(),
  };
}

/** Not a terminal (logs, cron): one line when each phase finishes instead of redrawn bars. */
function lineProgress(): Progress {
  return {
    update(phase, done, total) {
      if (done >= total) process.stderr.write(`${LABELS[phase].trim()}: ${done}/${total} rows\n`);
    },
    stop: () => undefined,
  };
}
