// Compiles src/**/*.ts to dist/ (one file per module, ESM, source maps) for `npm start`.
// Why not run src through tsx in production: tsx compiles with esbuild's keepNames, which wraps every
// named function in a `__name()` call that redefines its `name` property. That costs CPU at each
// closure's creation and ~250 bytes per closure (the function leaves V8's fast shape), several KB per
// WebSocket subscriber. Type checking stays with `tsc` (`npm run typecheck`).
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const started = Date.now();
rmSync(out, { recursive: true, force: true });
const entryPoints = sources(src);
await build({
  entryPoints,
  outdir: out,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  keepNames: false,
  logLevel: 'warning',
});
if (!process.argv.includes('--quiet')) {
  process.stdout.write(`built ${entryPoints.length} modules into ${relative(root, out)}/ in ${Date.now() - started} ms\n`);
}
