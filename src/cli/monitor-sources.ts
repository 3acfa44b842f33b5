import { postGraphQL } from './graphql-http.js';

/** One Prometheus sample: `name{labels} value`. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses Prometheus text exposition (comments and histogram buckets included; bad lines skipped). */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#')) continue;
    const m = line.exec(raw.trim());
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    samples.push({ name: m[1] as string, labels, value });
  }
  return samples;
}

/** GET /metrics on the server; null when it has none (404) or cannot be reached. */
export async function fetchMetrics(origin: string): Promise<MetricSample[] | null> {
  try {
    const response = await fetch(new URL('/metrics', origin), { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return null;
    return parsePrometheusText(await response.text());
  } catch {
    return null;
  }
}

/**
 * What the monitor shows from /metrics. Metric names are matched by meaning rather than spelled out, so
 * the monitor keeps working when a metric is renamed or gains a prefix (`herald_ws_...`, `ws_...`).
 */
export interface MetricsSummary {
  readonly openConnections: number | null;
  readonly subscriptionsByField: ReadonlyMap<string, number>;
  /** Monotonic count of messages sent to clients (a counter); the monitor turns deltas into a rate. */
  readonly messagesTotal: number;
}

export function summariseMetrics(samples: readonly MetricSample[]): MetricsSummary {
  const gauge = (test: RegExp) => samples.filter((s) => test.test(s.name) && !/_(total|bucket|sum|count|created)$/.test(s.name));
  const open = gauge(/connections?(_open|_active)?$|open_connections/);
  const subscriptions = gauge(/subscriptions?(_active|_open)?$/);
  const byField = new Map<string, number>();
  for (const s of subscriptions) {
    const key = s.labels.field ?? s.labels.operation ?? s.labels.name ?? 'all';
    byField.set(key, (byField.get(key) ?? 0) + s.value);
  }
  const delivered = samples.filter((s) => /messages?_(delivered|sent|out)\w*_total$|deliver\w*_total$/.test(s.name));
  return {
    openConnections: open.length ? open.reduce((sum, s) => sum + s.value, 0) : null,
    subscriptionsByField: byField,
    // A labelled counter has no samples until its first increment: no samples means none delivered yet.
    messagesTotal: delivered.reduce((sum, s) => sum + s.value, 0),
  };
}

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface IntrospectedField {
  name: string;
  type: TypeRef;
  args: { type: TypeRef }[];
}
interface IntrospectedType {
  name: string;
  fields: IntrospectedField[] | null;
}

const TYPE_REF = 'kind name ofType { kind name ofType { kind name ofType { kind name } } }';

/**
 * The staff `connectionStats` query, whatever fields it has: its type is introspected and every field
 * without required arguments is selected (objects two levels deep). The monitor prints what comes back,
 * so new fields appear without a CLI change. Returns data or an error line.
 */
export async function fetchConnectionStats(url: string, token: string): Promise<{ data: Record<string, unknown> } | { error: string }> {
  const root = await postGraphQL<{ __schema: { queryType: { fields: IntrospectedField[] } } }>(
    url,
    `{ __schema { queryType { fields { name args { type { ${TYPE_REF} } } type { ${TYPE_REF} } } } } }`,
    {},
    token,
  );
  const field = root.data?.__schema.queryType.fields.find((f) => f.name === 'connectionStats');
  if (!field) return { error: root.errors?.[0]?.message ?? 'this server has no connectionStats query yet' };
  const selection = await selectionFor(url, token, namedType(field.type), 3);
  const result = await postGraphQL<{ connectionStats: Record<string, unknown> }>(url, `{ connectionStats ${selection} }`, {}, token);
  if (result.errors?.length || !result.data) {
    const e = result.errors?.[0];
    return { error: `${e?.extensions?.code ?? 'ERROR'}: ${e?.message ?? 'no data'}` };
  }
  return { data: result.data.connectionStats };
}

const IDENTIFYING = new Set(['id', 'username', 'email', 'title', 'name']);

async function selectionFor(url: string, token: string, typeName: string, depth: number, nested = false): Promise<string> {
  const result = await postGraphQL<{ __type: IntrospectedType | null }>(url, `query($n: String!) { __type(name: $n) { name fields { name args { type { ${TYPE_REF} } } type { ${TYPE_REF} } } } }`, { n: typeName }, token);
  const fields = result.data?.__type?.fields;
  if (!fields) return '';
  // Innermost objects (the user of a row) are shown by their identifying fields only, when they have any.
  const identifying = fields.filter((f) => IDENTIFYING.has(f.name));
  const shown = nested && depth === 1 && identifying.length > 0 ? identifying : fields;
  const parts: string[] = [];
  for (const f of shown) {
    if (f.args.some((a) => a.type.kind === 'NON_NULL')) continue;
    const kind = leafKind(f.type);
    if (kind === 'SCALAR' || kind === 'ENUM') parts.push(f.name);
    else if (kind === 'OBJECT' && depth > 1) {
      const inner = await selectionFor(url, token, namedType(f.type), depth - 1, true);
      if (inner) parts.push(`${f.name} ${inner}`);
    }
  }
  return parts.length ? `{ ${parts.join(' ')} }` : '';
}

function unwrap(type: TypeRef): TypeRef {
  return type.ofType ? unwrap(type.ofType) : type;
}
const namedType = (type: TypeRef) => unwrap(type).name ?? '';
const leafKind = (type: TypeRef) => unwrap(type).kind;
