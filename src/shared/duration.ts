const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses "250ms", "30s", "5m", "1h", "7d" or a bare number of seconds (the old system's settings were
 * seconds). Returns milliseconds, or null when the text is not a duration.
 */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return null;
  const amount = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = Math.round(amount * (UNIT_MS[unit] ?? 1000));
  return Number.isFinite(ms) ? ms : null;
}
