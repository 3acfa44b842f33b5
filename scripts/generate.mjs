// Generates what the tree does not commit: the Prisma client (offline) and the codegen-typed
// operations. `prisma generate` only checks that a schema-engine binary path exists (it never runs it
// for generate), and the native engine cannot be downloaded here, so point it at any existing file.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (args) => {
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(new URL('../package.json', import.meta.url)),
    },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
run(['node_modules/prisma/build/index.js', 'generate']);
run(['node_modules/@graphql-codegen/cli/cjs/bin.js', '--config', 'codegen.ts', '--silent']);
