import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockDataDir } from './data-dir-lock.js';

export { EmbeddedDatabaseInUseError } from './data-dir-lock.js';

export interface EmbeddedDatabase {
  /** A postgresql:// URL reaching the database over loopback TCP, until `closeSocket()`. */
  readonly url: string;
  /** The in-process database, for the Prisma client (pglite-prisma-adapter). */
  readonly pglite: PGlite;
  /** Stops the TCP listener; the in-process database stays open. */
  closeSocket(): Promise<void>;
  stop(): Promise<void>;
}

/** Name of the file, inside the data dir, holding the migration socket's URL while the holder runs. */
export const EMBEDDED_URL_FILE = 'pglite.url';

export interface EmbeddedOptions {
  /** Who this process is, for the message a second opener gets (default "a running Herald server"). */
  readonly holder?: string;
}

/**
 * Opens PostgreSQL-in-wasm on `dataDir` and serves it on 127.0.0.1 (random port) so the committed
 * migrations apply through the same `pg` code path as on PostgreSQL. The server then closes the socket
 * and talks to PGlite in-process: pglite-socket drops the connection after any SQL error (a unique
 * violation would kill the pool).
 *
 * Two processes on one PGlite directory would both write PostgreSQL's files, and nothing in PGlite
 * prevents it: the data dir is locked first, for as long as this database is open, and a second opener
 * (server, CLI or migration script, whatever its PORT) gets EmbeddedDatabaseInUseError.
 */
export async function startEmbeddedDatabase(dataDir: string, options: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  const pgDir = join(root, 'pglite');
  await mkdir(pgDir, { recursive: true });
  const lock = await lockDataDir(root, options.holder ?? 'a running Herald server');
  let pglite: PGlite;
  let server: PGLiteSocketServer;
  try {
    pglite = await PGlite.create(pgDir);
    server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
  } catch (error) {
    await lock.release();
    throw error;
  }
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
      try {
        await closeSocket();
        // Only our own marker: never one another process wrote.
        if ((await readFile(urlFile, 'utf8').catch(() => '')).trim() === url) await rm(urlFile, { force: true });
        await pglite.close();
      } finally {
        await lock.release();
      }
    },
  };
}
