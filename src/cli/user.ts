import { loadConfig } from '../shared/config.js';
import { Role } from '../generated/prisma/enums.js';
import { CliFailure, oneOf, parseOptions, required, UsageError, type CliCommand } from './command.js';

const ROLES = Object.values(Role);

const usage = `Usage:
  npm run cli -- user create --email E --password P --username U [--display-name N] [--role READER|AUTHOR|STAFF]
  npm run cli -- user set-role --email E --role READER|AUTHOR|STAFF

  create     creates a user the way \`register\` does (same validation), with any role (default READER)
  set-role   changes a user's role; their access tokens issued before stop working at once (refreshing
             gives one with the new role)

Opens the database directly (DATABASE_URL, or the embedded one in DATA_DIR when no server holds it).`;

export const userCommand: CliCommand = {
  name: 'user',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'create') return create(rest);
    if (sub === 'set-role') return setRole(rest);
    if (sub === '--help' || sub === '-h') return printUsage();
    throw new UsageError(sub ? `Unknown user subcommand "${sub}"` : 'Missing subcommand: create or set-role');
  },
};

function printUsage(): number {
  process.stdout.write(`${usage}\n`);
  return 0;
}

async function create(argv: readonly string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    email: { type: 'string' },
    password: { type: 'string' },
    username: { type: 'string' },
    'display-name': { type: 'string' },
    role: { type: 'string', default: 'READER' },
  });
  const input = {
    email: required(values.email, 'email'),
    password: required(values.password, 'password'),
    username: required(values.username, 'username'),
    displayName: values['display-name'] ?? null,
  };
  const role = oneOf(values.role, 'role', ROLES);
  const config = loadConfig();
  // Loaded only now: usage errors and --help stay instant without Prisma and PGlite.
  const [{ withDatabase }, { cliAuthService }, { GraphQLError }] = await Promise.all([import('./database.js'), import('./auth.js'), import('graphql')]);
  const user = await withDatabase(config, async (db) => {
    try {
      return (await cliAuthService(config, db).register(input, role)).user;
    } catch (error) {
      // register's coded errors (BAD_USER_INPUT, CONFLICT) are the operator's to fix, not crashes.
      if (error instanceof GraphQLError) throw new CliFailure(`Cannot create user: ${error.message}`);
      throw error;
    }
  });
  process.stdout.write(`Created ${user.role} ${user.username} <${user.email}> id=${user.id}\n`);
  return 0;
}

async function setRole(argv: readonly string[]): Promise<number> {
  const { values } = parseOptions(argv, { email: { type: 'string' }, role: { type: 'string' } });
  const email = required(values.email, 'email').trim().toLowerCase();
  const role = oneOf(values.role, 'role', ROLES);
  const config = loadConfig();
  const [{ withDatabase }, { cliAuthService, cliPubSub }] = await Promise.all([import('./database.js'), import('./auth.js')]);
  const user = await withDatabase(config, async (db) => {
    const found = await db.user.findUnique({ where: { email } });
    if (!found) throw new CliFailure(`No user with email ${email}`);
    // Through Redis when configured, so every running server refuses the user's older tokens at once.
    const pubsub = cliPubSub(config);
    try {
      return await cliAuthService(config, db, pubsub).changeRole(found.id, role);
    } finally {
      await pubsub.close();
    }
  });
  process.stdout.write(`${user.username} <${user.email}> is now ${user.role}\n`);
  return 0;
}
