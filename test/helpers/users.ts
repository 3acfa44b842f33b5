import { randomBytes } from 'node:crypto';
import type { TestApp } from './test-app.js';
import { gqlOk } from './clients.js';

export interface TestUser {
  readonly id: string;
  readonly email: string;
  readonly username: string;
  readonly password: string;
  readonly token: string;
  readonly refreshToken: string;
}

const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken user { id username } }
}`;

/** Registers a new user through the API (as a client would) and returns its tokens. */
export async function registerUser(app: TestApp, prefix = 'user'): Promise<TestUser> {
  const suffix = randomBytes(4).toString('hex');
  const username = `${prefix}_${suffix}`;
  const email = `${username}@example.test`;
  const password = 'correct horse battery staple';
  const data = await gqlOk<{ register: { accessToken: string; refreshToken: string; user: { id: string } } }>(app, REGISTER, {
    input: { email, password, username, displayName: prefix },
  });
  return { id: data.register.user.id, email, username, password, token: data.register.accessToken, refreshToken: data.register.refreshToken };
}

/** A STAFF user: registered, promoted the way the CLI does it, then logged in again for a staff token. */
export async function registerStaff(app: TestApp): Promise<TestUser> {
  const user = await registerUser(app, 'staff');
  await app.app.runtime.db.user.update({ where: { id: user.id }, data: { role: 'STAFF' } });
  const login = await gqlOk<{ login: { accessToken: string; refreshToken: string } }>(
    app,
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }',
    { e: user.email, p: user.password },
  );
  return { ...user, token: login.login.accessToken, refreshToken: login.login.refreshToken };
}

/** Creates (and by default publishes) a post owned by `author`. */
export async function createPost(app: TestApp, author: TestUser, options: { publish?: boolean; title?: string } = {}): Promise<string> {
  const created = await gqlOk<{ createPost: { id: string } }>(
    app,
    'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }',
    { input: { title: options.title ?? 'A post', content: 'Some content' } },
    author.token,
  );
  const id = created.createPost.id;
  if (options.publish ?? true) await gqlOk(app, 'mutation($id: ID!) { publishPost(id: $id) { id } }', { id }, author.token);
  return id;
}
