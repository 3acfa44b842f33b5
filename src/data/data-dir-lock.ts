import { readFile, readlink, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/** The lock itself: a directory inside the data dir (created atomically with mkdir by proper-lockfile). */
export const LOCK_DIR = 'herald.lock';
/** Who holds the lock, for the message a second opener prints; written beside it once it is held. */
export const LOCK_OWNER_FILE = 'herald.lock.json';

/**
 * A holder refreshes the lock's mtime every few seconds; a lock left unrefreshed this long (its holder
 * was killed, its machine died) counts as abandoned. Long enough that a busy event loop (PGlite runs
 * every query, and the first start's initdb, on the main thread) cannot make a live lock look abandoned.
 */
export const LOCK_STALE_MS = 30_000;
const LOCK_UPDATE_MS = 5_000;

export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** `/proc/self/ns/pid` of the holder (Linux), so a pid is only judged dead where it means the same process. */
  readonly pidNamespace: string | null;
  /** What the holder is ("a running Herald server", "the Herald CLI (user create)"). */
  readonly holder: string;
  /** ISO time the lock was taken. */
  readonly since: string;
  /** Identity of the lock directory this file describes (an owner file can outlive its lock after a crash). */
  readonly lockIno: number;
  readonly lockBirthtimeMs: number;
}

/** Thrown when another process holds the data dir; `message` is one line saying who and what to do. */
export class EmbeddedDatabaseInUseError extends Error {
  override name = 'EmbeddedDatabaseInUseError';
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner | null,
  ) {
    const who = owner ? `${owner.holder} (pid ${owner.pid} on ${owner.hostname}, since ${owner.since})` : 'another process';
    super(
      `The embedded database in ${dataDir} is in use by ${who}: only one process can open it. ` +
        'Stop that process first, or run both against PostgreSQL (DATABASE_URL). ' +
        `If it was killed, the lock lapses ${LOCK_STALE_MS / 1000} s after it died.`,
    );
  }
}

export interface DataDirLock {
  /** Gives the directory up (the owner file first, then the lock). */
  release(): Promise<void>;
}

/**
 * Takes the data dir's lock for the life of this process, or throws EmbeddedDatabaseInUseError at once.
 * The lock is a directory made with mkdir (atomic on every file system, visible across containers that
 * share the volume) whose mtime the holder refreshes; proper-lockfile also removes it when the process
 * exits. A holder killed with SIGKILL leaves it behind: it lapses after LOCK_STALE_MS, and at once when
 * the owner file shows a process of this host and pid namespace that no longer exists.
 */
export async function lockDataDir(root: string, holder: string): Promise<DataDirLock> {
  const lockPath = join(root, LOCK_DIR);
  const ownerPath = join(root, LOCK_OWNER_FILE);
  const take = () =>
    lockfile.lock(root, {
      lockfilePath: lockPath,
      stale: LOCK_STALE_MS,
      update: LOCK_UPDATE_MS,
      retries: 0,
      onCompromised: (error) => {
        // Someone took the directory over (or it vanished): two writers corrupt PostgreSQL's files, so stop.
        throw new Error(`Lost the lock on the embedded database in ${root} (${error.message}); stopping so that two processes never write it`);
      },
    });
  let unlock: () => Promise<void>;
  try {
    unlock = await take();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = await readOwner(ownerPath);
    if (!(await removeIfHolderDied(lockPath, owner))) throw new EmbeddedDatabaseInUseError(root, owner);
    try {
      unlock = await take();
    } catch (retryError) {
      // Another process was quicker to take the abandoned lock.
      if ((retryError as NodeJS.ErrnoException).code === 'ELOCKED') throw new EmbeddedDatabaseInUseError(root, await readOwner(ownerPath));
      throw retryError;
    }
  }
  const held = await stat(lockPath);
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    pidNamespace: await pidNamespace(),
    holder,
    since: new Date().toISOString(),
    lockIno: held.ino,
    lockBirthtimeMs: held.birthtimeMs,
  };
  await writeFile(ownerPath, `${JSON.stringify(owner)}\n`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const current = await readOwner(ownerPath);
      if (current?.pid === owner.pid && current.lockIno === owner.lockIno) await rm(ownerPath, { force: true });
      await unlock().catch(() => undefined);
    },
  };
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' ? (parsed as LockOwner) : null;
  } catch {
    return null;
  }
}

/**
 * True when the lock's owner file names a process of this host and pid namespace that is gone, and
 * still describes this very lock directory (not an older one it outlived); the lock is then removed.
 */
async function removeIfHolderDied(lockPath: string, owner: LockOwner | null): Promise<boolean> {
  if (!owner || owner.pid === process.pid || owner.hostname !== hostname()) return false;
  const namespace = await pidNamespace();
  if (namespace === null || owner.pidNamespace !== namespace || isAlive(owner.pid)) return false;
  const current = await stat(lockPath).catch(() => null);
  if (!current || current.ino !== owner.lockIno || current.birthtimeMs !== owner.lockBirthtimeMs) return false;
  await rmdir(lockPath).catch(() => undefined);
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pidNamespace(): Promise<string | null> {
  return readlink('/proc/self/ns/pid').catch(() => null);
}
