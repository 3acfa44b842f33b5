import { loadConfig } from '../shared/config.js';
import { CliFailure, parseOptions, required, type CliCommand } from './command.js';

const usage = `Usage: npm run cli -- token --user <email> [--quiet]

Prints an access token for the user (signed with this environment's JWT_SECRET, valid for JWT_ACCESS_TTL),
for curl, GraphiQL or \`client --token\`. No refresh token: get a new one the same way when it expires.
  --quiet   print only the token (for TOKEN=$(npm run -s cli -- token --user a@b.c --quiet))`;

export const tokenCommand: CliCommand = {
  name: 'token',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { user: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } });
    const email = required(values.user, 'user').trim().toLowerCase();
    const config = loadConfig();
    const [{ withDatabase }, { cliAuthService }] = await Promise.all([import('./database.js'), import('./auth.js')]);
    const { user, issued } = await withDatabase(config, async (db) => {
      const found = await db.user.findUnique({ where: { email } });
      if (!found) throw new CliFailure(`No user with email ${email}`);
      return { user: found, issued: cliAuthService(config, db).issueAccessToken(found) };
    });
    if (values.quiet) process.stdout.write(`${issued.token}\n`);
    else process.stdout.write(`# ${user.role} ${user.username} <${user.email}>, expires ${issued.expiresAt.toISOString()}\n${issued.token}\n`);
    return 0;
  },
};
