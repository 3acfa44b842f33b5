/** Reads V8 heap snapshots and sums self sizes by object kind, to compare two snapshots per subscriber. */
import { readFileSync } from 'node:fs';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface KindTotals {
  readonly bytes: number;
  readonly count: number;
}

/** Self size and count per object kind: constructor name, closure name, or the V8 type for strings, arrays and code. */
export function heapByKind(file: string): Map<string, KindTotals> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const totals = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const kind = kindOf(types[snapshot.nodes[i + typeAt]!]!, snapshot.strings[snapshot.nodes[i + nameAt]!]!);
    const entry = totals.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += snapshot.nodes[i + sizeAt]!;
    entry.count += 1;
    totals.set(kind, entry);
  }
  return totals;
}

function kindOf(type: string, name: string): string {
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return `(${type})`;
  if (type === 'code') return '(code)';
  if (type === 'closure') return `closure ${name.slice(0, 40) || '(anonymous)'}`;
  if (type === 'array' || type === 'hidden' || type === 'synthetic' || type === 'native') return `(${type}) ${name.slice(0, 40)}`;
  return name.slice(0, 60);
}

/** Growth per subscriber between two snapshots, largest first. */
export function growthPerSubscriber(before: Map<string, KindTotals>, after: Map<string, KindTotals>, subscribers: number) {
  const rows: { kind: string; bytes: number; count: number }[] = [];
  for (const [kind, totals] of after) {
    const base = before.get(kind) ?? { bytes: 0, count: 0 };
    rows.push({ kind, bytes: (totals.bytes - base.bytes) / subscribers, count: (totals.count - base.count) / subscribers });
  }
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  return { total, rows: rows.sort((a, b) => b.bytes - a.bytes) };
}
