/**
 * Logs in and prints an access token for the other examples (or registers with --username first).
 *   npx tsx examples/login.ts --url http://localhost:4000/graphql --email ada@example.com --password '...' [--username ada]
 */
import { LoginDocument, RegisterDocument } from '../src/generated/graphql/graphql.js';
import { exampleOptions, request, required, run } from './lib/herald-client.js';

run(async () => {
  const options = exampleOptions(['email', 'password', 'username']);
  const usage = 'login.ts --email E --password P [--username U to register]';
  const email = required(options, 'email', usage);
  const password = required(options, 'password', usage);
  const username = options.values.username;
  const payload =
    username
      ? (await request(options, RegisterDocument, { input: { email, password, username } })).register
      : (await request(options, LoginDocument, { email, password })).login;
  console.error(`logged in as ${payload.user.username} (${payload.user.role}); token expires ${payload.accessTokenExpiresAt}`);
  console.log(payload.accessToken);
});
