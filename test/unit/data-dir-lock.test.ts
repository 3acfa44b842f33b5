import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readlink, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedDatabaseInUseError, LOCK_DIR, LOCK_OWNER_FILE, LOCK_STALE_MS, lockDataDir } from '../../src/data/data-dir-lock.js';

/** The pid of a process that has just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid as number;
}

const LOCK_MODULE = fileURLToPath(new URL('../../src/data/data-dir-lock.ts', import.meta.url));
const pidNamespace = () => readlink('/proc/self/ns/pid').catch(() => null);

describe('the data dir lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-lock-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('lets one holder in, refuses the next with who holds it, and is free again after release', async () => {
    const first = await lockDataDir(dir, 'the first holder');
    const refused = await lockDataDir(dir, 'the second').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EmbeddedDatabaseInUseError);
    expect((refused as Error).message).toContain(`in use by the first holder (pid ${process.pid} on ${hostname()}`);
    expect((refused as Error).message).not.toContain('\n');
    await first.release();
    const second = await lockDataDir(dir, 'the second');
    await second.release();
  });

  it('takes over at once from a holder killed with SIGKILL', async () => {
    const source = `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)}; await lockDataDir(${JSON.stringify(dir)}, 'a doomed holder'); process.stdout.write('locked\\n'); setInterval(() => undefined, 1000);`;
    const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the holder did not take the lock within 20 s')), 20_000);
      holder.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('locked')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await expect(lockDataDir(dir, 'x')).rejects.toThrow(/in use by a doomed holder/);
    holder.kill('SIGKILL');
    await exited;
    const successor = await lockDataDir(dir, 'the restarted server');
    await successor.release();
  }, 30_000);

  it('takes over after the stale period from a holder whose death cannot be seen from here', async () => {
    // What a crash leaves behind: the lock directory and its owner file, naming a pid.
    const leftBehind = async (owner: Record<string, unknown>) => {
      await mkdir(join(dir, LOCK_DIR));
      const lock = await stat(join(dir, LOCK_DIR));
      await writeFile(join(dir, LOCK_OWNER_FILE), JSON.stringify({ hostname: hostname(), pidNamespace: await pidNamespace(), holder: 'a crashed server', since: '', lockIno: lock.ino, lockBirthtimeMs: lock.birthtimeMs, ...owner }));
    };
    // A holder elsewhere (another pid namespace, another host): its pid says nothing here, only mtime does.
    await leftBehind({ pid: deadPid(), pidNamespace: 'pid:[1]' });
    await expect(lockDataDir(dir, 'x')).rejects.toBeInstanceOf(EmbeddedDatabaseInUseError);
    const old = new Date(Date.now() - LOCK_STALE_MS - 5_000);
    await utimes(join(dir, LOCK_DIR), old, old);
    const afterStale = await lockDataDir(dir, 'x');
    await afterStale.release();
  });

  it('does not trust an owner file that describes an older lock directory', async () => {
    await mkdir(join(dir, LOCK_DIR));
    const owner = { pid: deadPid(), hostname: hostname(), pidNamespace: await pidNamespace(), holder: 'old', since: '', lockIno: 1, lockBirthtimeMs: 1 };
    await writeFile(join(dir, LOCK_OWNER_FILE), JSON.stringify(owner));
    await expect(lockDataDir(dir, 'x')).rejects.toBeInstanceOf(EmbeddedDatabaseInUseError);
  });
});
