import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One CLI command: `run` receives the arguments after the command name and resolves with the exit code. */
export interface CliCommand {
  readonly name: string;
  /** Full usage text printed by `--help` and after a bad argument. */
  readonly usage: string;
  run(argv: readonly string[]): Promise<number>;
}

/** Bad arguments: the dispatcher prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `--help` was given: the dispatcher prints usage on stdout and exits 0. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
}

/** An expected failure (server running, user not found...): printed as one line, exit 1, no stack. */
export class CliFailure extends Error {
  override name = 'CliFailure';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Strict parseArgs (unknown options and stray positionals are usage errors) with `--help` on every
 * command. Node's own messages name the offending option, so they are passed through.
 */
export function parseOptions<O extends Options>(argv: readonly string[], options: O, allowPositionals = false) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if ((parsed.values as { help?: boolean }).help) throw new HelpRequested();
  return parsed;
}

/** The value of a required string option, or a usage error naming it. */
export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`Missing required option --${flag}`);
  return value;
}

/** Parses a positive number option ("30", "0.5"); `integer` rejects fractions. */
export function positiveNumber(value: string | undefined, flag: string, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} expects a ${integer ? 'whole ' : ''}number above 0, got "${value}"`);
  }
  return n;
}

/** One of a fixed set of values (case-insensitive), returned in the set's spelling. */
export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T {
  const given = required(value, flag);
  const match = allowed.find((a) => a.toLowerCase() === given.toLowerCase());
  if (!match) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${given}"`);
  return match;
}
