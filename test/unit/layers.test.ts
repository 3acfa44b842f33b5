import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** dependency-cruiser with the project's rules (.dependency-cruiser.cjs) over `dir`'s src/: its exit code and report. */
async function cruise(cwd: string): Promise<{ code: number; report: string }> {
  try {
    const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), 'src', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err'], { cwd });
    return { code: 0, report: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? 1, report: failed.stdout ?? String(error) };
  }
}

describe('layers', () => {
  it('has no import cycle and no import pointing up the layers', async () => {
    const { code, report } = await cruise(ROOT);
    expect(report).toContain('no dependency violations');
    expect(code).toBe(0);
  }, 60_000);

  it('fails on an import against the layer order and on a cycle (the rules bite)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-layers-'));
    try {
      await mkdir(join(dir, 'src/shared'), { recursive: true });
      await mkdir(join(dir, 'src/modules/posts'), { recursive: true });
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' }, include: ['src'] }));
      // shared → modules points up; modules → shared closes a cycle.
      await writeFile(join(dir, 'src/shared/config.ts'), "import { postTitle } from '../modules/posts/post.service.js';\nexport const config = postTitle;\n");
      await writeFile(join(dir, 'src/modules/posts/post.service.ts'), "import { config } from '../../shared/config.js';\nexport const postTitle = String(config);\n");
      const { code, report } = await cruise(dir);
      expect(code).not.toBe(0);
      expect(report).toContain('shared-imports-only-shared');
      expect(report).toContain('no-circular');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
