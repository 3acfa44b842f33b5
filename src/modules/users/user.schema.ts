import { builder } from '../../graphql/builder.js';
import type { User } from '../../generated/prisma/client.js';

export const RoleEnum = builder.enumType('Role', {
  description: 'READER reads and comments, AUTHOR also writes posts, STAFF moderates and sees analytics.',
  values: ['READER', 'AUTHOR', 'STAFF'] as const,
});

export const UserRef = builder.objectRef<User>('User').implement({
  description: 'A member of the blog.',
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    displayName: t.exposeString('displayName'),
    role: t.field({ type: RoleEnum, resolve: (user) => user.role }),
    email: t.string({
      nullable: true,
      description: 'Only visible to the user themself and to staff.',
      viewerDependent: true,
      resolve: (user, _args, ctx) => (ctx.viewer && (ctx.viewer.id === user.id || ctx.viewer.role === 'STAFF') ? user.email : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (user) => user.createdAt }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The logged-in user, or null without a token.',
    viewerDependent: true,
    resolve: (_root, _args, ctx) => (ctx.viewer ? ctx.services.users.byId(ctx.viewer.id) : null),
  }),
);

builder.mutationField('setUserRole', (t) =>
  t.field({
    type: UserRef,
    description: 'Staff only: changes a user’s role. Takes effect at once: their access tokens issued before are refused (UNAUTHENTICATED), and refreshing gives a token with the new role.',
    authScopes: { staff: true },
    args: { userId: t.arg.id({ required: true }), role: t.arg({ type: RoleEnum, required: true }) },
    resolve: (_r, args, ctx) => ctx.services.auth.changeRole(String(args.userId), args.role),
  }),
);
