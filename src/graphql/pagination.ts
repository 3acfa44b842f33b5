import { badInput } from '../shared/errors.js';

/** The relay page a connection field returns (`@pothos/plugin-relay` defines PageInfo and the types). */
export interface Page<T> {
  readonly edges: { readonly cursor: string; readonly node: T }[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly hasPreviousPage: boolean; readonly startCursor: string | null; readonly endCursor: string | null };
}

/**
 * Turns `first + 1` fetched rows into edges and page info (the extra row only tells there is more).
 * Pages go forward only (`first`/`after`); `hasPreviousPage` says whether this page started after a cursor.
 */
export function pageOf<T>(rows: T[], first: number, cursorOf: (row: T) => string, after?: string | null): Page<T> {
  const size = Math.min(Math.max(first, 1), 100);
  const page = rows.slice(0, size);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, hasPreviousPage: Boolean(after), startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

/** The forward page a connection's relay arguments ask for; `last`/`before` are refused (pages go forward). */
export function forwardPage(args: { first?: number | null; after?: string | null; last?: number | null; before?: string | null }, defaultFirst = 20): { first: number; after: string | null } {
  if (args.last != null || args.before != null) throw badInput('Pages go forward only: use first and after', args.last != null ? 'last' : 'before');
  return { first: args.first ?? defaultFirst, after: args.after ?? null };
}
