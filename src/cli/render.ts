/**
 * Renders a GraphQL result for a terminal without knowing its shape: scalars as `name: value`, lists of
 * objects as aligned tables (nested objects flattened to `user.username`), nested objects indented.
 */
export function renderValue(value: unknown, indent = ''): string {
  if (!isObject(value)) return `${indent}${format(value)}`;
  const lines: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (Array.isArray(child)) {
      lines.push(`${indent}${key}:${child.length === 0 ? ' none' : ''}`);
      if (child.length > 0) lines.push(...table(child.map((row) => (isObject(row) ? flatten(row) : { value: row })), `${indent}  `));
    } else if (isObject(child)) {
      lines.push(`${indent}${key}:`, renderValue(child, `${indent}  `));
    } else {
      lines.push(`${indent}${key}: ${format(child)}`);
    }
  }
  return lines.join('\n');
}

function table(rows: Record<string, string>[], indent: string): string[] {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => indent + cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))];
}

function flatten(value: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, child] of Object.entries(value)) {
    if (isObject(child)) Object.assign(out, flatten(child, `${prefix}${key}.`));
    else out[`${prefix}${key}`] = Array.isArray(child) ? child.map((c) => (isObject(c) ? JSON.stringify(c) : format(c))).join(',') : format(child);
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function format(value: unknown): string {
  return value === null || value === undefined ? '-' : String(value);
}
