import { mkdir, writeFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabase {
  /** A postgresql:// URL reaching the database over loopback TCP, until `closeSocket()`. */
  readonly url: string;
  /** The in-process database, for the Prisma client (pglite-prisma-adapter). */
  readonly pglite: PGlite;
  /** Stops the TCP listener; the in-process database stays open. */
  closeSocket(): Promise<void>;
  stop(): Promise<void>;
}

/** Name of the file, inside the data dir, that says a process holds the embedded database open. */
export const EMBEDDED_URL_FILE = 'pglite.url';

/**
 * Opens PostgreSQL-in-wasm on `dataDir` and serves it on 127.0.0.1 (random port) so the committed
 * migrations apply through the same `pg` code path as on PostgreSQL. The server then closes the socket
 * and talks to PGlite in-process: pglite-socket drops the connection after any SQL error (a unique
 * violation would kill the pool), and one process is all that may open a PGlite directory anyway.
 */
export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  const pgDir = join(root, 'pglite');
  await mkdir(pgDir, { recursive: true });
  const pglite = await PGlite.create(pgDir);
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const url = `postgresql://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  const urlFile = join(root, EMBEDDED_URL_FILE);
  await writeFile(urlFile, url + '\n');
  let socketOpen = true;
  const closeSocket = async () => {
    if (!socketOpen) return;
    socketOpen = false;
    await server.stop();
  };
  return {
    url,
    pglite,
    closeSocket,
    async stop() {
      await closeSocket();
      await rm(urlFile, { force: true });
      await pglite.close();
    },
  };
}
