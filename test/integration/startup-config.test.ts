import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../helpers/backends.js';
import { DEV_JWT_SECRET } from '../../src/shared/config.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Starts `src/main.ts` as `npm start` would and waits for it to exit. A server that starts instead of
 * refusing is killed after `timeoutMs` and reported as such, so the test fails rather than hangs.
 */
function start(env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; stderr: string; started: boolean }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let started = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Herald listening')) {
        started = true;
        child.kill('SIGKILL');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', fail);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr, started });
    });
  });
}

// The configuration is read before any backend is touched: run once, not per backend.
describe.runIf(backend === 'embedded')('start-up with an unsafe production secret', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'herald-startup-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('stops with one line and exit code 2 for the development secret or one under 32 bytes', async () => {
    const base = { NODE_ENV: 'production', ALLOWED_ORIGINS: 'https://app.example', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    const [published, short] = await Promise.all([start({ ...base, JWT_SECRET: DEV_JWT_SECRET }), start({ ...base, JWT_SECRET: 'twenty-chars-secret!' })]);
    for (const result of [published, short]) {
      expect(result.started).toBe(false);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(published.stderr).toMatch(/^Invalid configuration: JWT_SECRET is the published development secret/);
    expect(short.stderr).toMatch(/^Invalid configuration: JWT_SECRET must be at least 32 bytes/);
    expect(short.stderr).not.toContain('twenty-chars-secret!');
  }, 60_000);
});
