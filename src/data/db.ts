import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export type DatabaseTarget =
  | { readonly kind: 'postgresql'; readonly url: string; readonly poolSize: number }
  | { readonly kind: 'embedded'; readonly pglite: PGlite };

/** A bare Prisma client on a driver adapter; `app.ts` adds the publishing extensions. */
export function createPrismaClient(target: DatabaseTarget): PrismaClient {
  if (target.kind === 'embedded') return new PrismaClient({ adapter: new PrismaPGlite(target.pglite) });
  const adapter = new PrismaPg({
    connectionString: target.url,
    max: target.poolSize,
    // Fail a request quickly when the database is gone instead of queueing it forever.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  return new PrismaClient({ adapter });
}
