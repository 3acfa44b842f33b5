import { loadConfig } from '../shared/config.js';
import type { PrismaClient } from '../data/db.js';
import type { User } from '../generated/prisma/client.js';
import type { Role } from '../generated/prisma/enums.js';
import { parseOptions, type CliCommand } from './command.js';

const usage = `Usage: npm run cli -- seed [--password P]

Creates demo data: a staff user, an author, two readers (all with the printed password), two published
posts and a draft by the author, and comments (approved and pending) from the readers. Prints each user's
access token. Running it again creates nothing new and prints fresh tokens.
Opens the database directly: stop an embedded server first, or set DATABASE_URL.`;

const DEMO_USERS: readonly { username: string; displayName: string; role: Role }[] = [
  { username: 'demo_staff', displayName: 'Demo Staff', role: 'STAFF' },
  { username: 'demo_author', displayName: 'Demo Author', role: 'AUTHOR' },
  { username: 'demo_reader1', displayName: 'Demo Reader One', role: 'READER' },
  { username: 'demo_reader2', displayName: 'Demo Reader Two', role: 'READER' },
];
const emailOf = (username: string) => `${username.replace('_', '.')}@herald.example`;

export const seedCommand: CliCommand = {
  name: 'seed',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { password: { type: 'string', default: 'herald-demo-password' } });
    const password = values.password;
    const config = loadConfig();
    const [{ withDatabase }, { cliAuthService }] = await Promise.all([import('./database.js'), import('./auth.js')]);
    const report = await withDatabase(config, async (db) => {
      const auth = cliAuthService(config, db);
      const users: User[] = [];
      let created = 0;
      for (const demo of DEMO_USERS) {
        const email = emailOf(demo.username);
        const existing = await db.user.findUnique({ where: { email } });
        if (existing) users.push(existing);
        else {
          users.push((await auth.register({ email, password, username: demo.username, displayName: demo.displayName }, demo.role)).user);
          created++;
        }
      }
      const [, author, reader1, reader2] = users as [User, User, User, User];
      const posts = created > 0 || (await db.post.count({ where: { authorId: author.id } })) === 0 ? await seedPosts(db, author, reader1, reader2) : [];
      return { users: users.map((u) => ({ user: u, token: auth.issueAccessToken(u).token })), created, posts };
    });

    const out = process.stdout;
    out.write(report.created > 0 ? `Created ${report.created} demo user(s); password for all: ${password}\n` : `Demo users already exist (password as when seeded, default ${password}).\n`);
    for (const p of report.posts) out.write(`  post ${p.id} ${p.status.padEnd(9)} "${p.title}"\n`);
    out.write('\nAccess tokens (valid for JWT_ACCESS_TTL; refresh with `npm run cli -- token --user <email>`):\n');
    for (const { user, token } of report.users) out.write(`\n${user.role.padEnd(6)} ${user.email}\n${token}\n`);
    const published = report.posts.find((p) => p.status === 'PUBLISHED');
    if (published) out.write(`\nTry: npm run cli -- client --test all --post-id ${published.id} --token <a token above>\n`);
    return 0;
  },
};

/** Posts and comments written directly: seed data is history, so no live events are published for it. */
async function seedPosts(db: PrismaClient, author: User, reader1: User, reader2: User) {
  const now = Date.now();
  const welcome = await db.post.create({
    data: { authorId: author.id, title: 'Welcome to Herald', content: 'Realtime comments, likes and notifications over GraphQL.', status: 'PUBLISHED', publishedAt: new Date(now - 3_600_000) },
  });
  const second = await db.post.create({
    data: { authorId: author.id, title: 'Subscriptions in practice', content: 'Open a subscription and watch the counters move.', status: 'PUBLISHED', publishedAt: new Date(now - 600_000) },
  });
  const draft = await db.post.create({ data: { authorId: author.id, title: 'Work in progress', content: 'Only the author and staff can see this draft.' } });
  await db.comment.createMany({
    data: [
      { postId: welcome.id, authorId: reader1.id, content: 'Great start!', status: 'APPROVED', moderatedAt: new Date(), moderatedById: author.id },
      { postId: welcome.id, authorId: reader2.id, content: 'Looking forward to more.', status: 'APPROVED', moderatedAt: new Date(), moderatedById: author.id },
      { postId: welcome.id, authorId: reader2.id, content: 'This one waits for moderation.', status: 'PENDING' },
      { postId: second.id, authorId: reader1.id, content: 'Subscriptions are neat.', status: 'APPROVED', moderatedAt: new Date(), moderatedById: author.id },
    ],
  });
  // commentCount counts approved comments only (what every reader sees).
  await db.post.update({ where: { id: welcome.id }, data: { commentCount: 2 } });
  await db.post.update({ where: { id: second.id }, data: { commentCount: 1 } });
  return [welcome, second, draft];
}
