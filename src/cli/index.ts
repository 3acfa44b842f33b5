/*
 * Herald's operator CLI: `npm run cli -- <command> [options]`. One file per command; this file only
 * dispatches and turns errors into exit codes: 0 success, 1 failure, 2 bad arguments, configuration or
 * an unreachable server. Commands are imported on demand so usage errors and --help answer at once,
 * without loading Prisma, PGlite or graphql-ws.
 */
import { CliFailure, HelpRequested, UsageError, type CliCommand } from './command.js';

interface Entry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<CliCommand>;
}

const commands: readonly Entry[] = [
  { name: 'user', summary: "create a user with a role, or change a user's role", load: async () => (await import('./user.js')).userCommand },
  { name: 'token', summary: 'print an access token for a user', load: async () => (await import('./token.js')).tokenCommand },
  { name: 'monitor', summary: 'show open connections by instance and user, subscriptions and messages/s', load: async () => (await import('./monitor.js')).monitorCommand },
  { name: 'cleanup', summary: 'finalise abandoned connection records and delete old closed ones', load: async () => (await import('./cleanup.js')).cleanupCommand },
  { name: 'health', summary: "print a server's readiness (/ready); non-zero exit when unhealthy or unreachable", load: async () => (await import('./health.js')).healthCommand },
  { name: 'client', summary: 'subscribe over WebSocket like a client and print what arrives', load: async () => (await import('./client.js')).clientCommand },
  { name: 'seed', summary: 'create demo users, posts and comments and print their tokens', load: async () => (await import('./seed.js')).seedCommand },
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: npm run cli -- <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `npm run cli -- <command> --help` for the options of one command.',
    'Settings come from the same environment variables as the server (DATABASE_URL, DATA_DIR, PORT, JWT_SECRET...).',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`Unknown command "${name}"\n\n${overview()}\n`);
    return 2;
  }
  const command = await entry.load();
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (error instanceof CliFailure) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    // Loaded lazily for the same reason as the commands; ConfigError's message is the one line to show.
    const { ConfigError } = await import('../shared/config.js');
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly (open handles such as pg pools must not keep a finished command alive), but only
    // once stdout and stderr are flushed: on pipes their writes are asynchronous.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
