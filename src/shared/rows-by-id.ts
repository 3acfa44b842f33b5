import DataLoader from 'dataloader';

/**
 * A DataLoader of rows by id: the lookups made in one tick are answered by one `loadMany` query (a list
 * of 50 comments resolving their authors costs one query, not 50). Nothing is cached across batches,
 * so answers are never stale.
 */
export function rowsById<T extends { id: string }>(loadMany: (ids: string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(
    async (ids) => {
      const rows = await loadMany([...ids]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { cache: false },
  );
}
