import { builder } from '../../graphql/builder.js';
import { badInput, forbidden, unauthenticated } from '../../shared/errors.js';
import { TokenError, parseBearer } from '../auth/tokens.js';
import type { ConnectionStats } from './instance-stats.js';
import { UserRef } from '../users/user.schema.js';

type InstanceCount = ConnectionStats['instances'][number];
type UserCount = ConnectionStats['topUsers'][number];
type FieldCount = ConnectionStats['subscriptions'][number];

const InstanceConnectionsRef = builder.objectRef<InstanceCount>('InstanceConnections').implement({
  description: 'Open WebSocket connections on one live server instance.',
  fields: (t) => ({
    instanceId: t.exposeString('instanceId'),
    connections: t.exposeInt('connections'),
    updatedAt: t.field({ type: 'DateTime', description: 'When this instance last reported (this instance: now).', resolve: (i) => new Date(i.updatedAt) }),
  }),
});

const UserConnectionsRef = builder.objectRef<UserCount>('UserConnections').implement({
  description: 'A user and how many WebSocket connections they hold across all instances.',
  fields: (t) => ({
    userId: t.exposeID('userId'),
    user: t.field({ type: UserRef, nullable: true, description: 'Null when the user was deleted meanwhile.', resolve: (u, _a, ctx) => ctx.services.users.byId(u.userId) }),
    connections: t.exposeInt('connections'),
  }),
});

const SubscriptionCountRef = builder.objectRef<FieldCount>('SubscriptionCount').implement({
  description: 'Running subscriptions of one root field (e.g. `notifications`) across all instances.',
  fields: (t) => ({
    field: t.exposeString('field'),
    count: t.exposeInt('count'),
  }),
});

const ConnectionStatsRef = builder.objectRef<ConnectionStats>('ConnectionStats').implement({
  description:
    'Live WebSocket connections across every instance. Each instance reports a snapshot (Redis, refreshed within 100 ms of a change and on every heartbeat); the instance answering reports its own live state.',
  fields: (t) => ({
    totalConnections: t.exposeInt('totalConnections'),
    totalSubscriptions: t.exposeInt('totalSubscriptions'),
    instances: t.field({ type: [InstanceConnectionsRef], resolve: (s) => s.instances }),
    topUsers: t.field({ type: [UserConnectionsRef], description: 'Users with the most connections, most first.', resolve: (s) => s.topUsers }),
    subscriptions: t.field({ type: [SubscriptionCountRef], description: 'Running subscriptions by root field, most first.', resolve: (s) => s.subscriptions }),
    timestamp: t.field({ type: 'DateTime', resolve: () => new Date() }),
  }),
});

builder.queryField('connectionStats', (t) =>
  t.field({
    type: ConnectionStatsRef,
    description: 'Open WebSocket connections in total, per instance, per user (top `topUsers`, 1-100, default 10) and subscriptions by field. Staff only.',
    authScopes: { staff: true },
    args: { topUsers: t.arg.int({ defaultValue: 10 }) },
    resolve: (_root, args, ctx) => {
      const top = args.topUsers ?? 10;
      if (top < 1 || top > 100) throw badInput('topUsers must be between 1 and 100', 'topUsers');
      return ctx.services.connections.connectionStats(top);
    },
  }),
);

builder.mutationField('renewConnectionToken', (t) =>
  t.field({
    type: 'DateTime',
    description:
      'Hands the WebSocket connection this operation runs on a fresh access token of the same user (from login or refreshToken) and returns its new expiry: a client that renews before `exp` is never closed with 4403 for expiry. FORBIDDEN for another user’s token (the connection keeps its old expiry), UNAUTHENTICATED for a bad one, BAD_USER_INPUT over HTTP or SSE (nothing to renew).',
    // The connection is the viewer's own, and the answer is its expiry.
    viewerDependent: true,
    args: { accessToken: t.arg.string({ required: true, description: 'The new access token (with or without "Bearer ").' }) },
    resolve: async (_root, { accessToken }, ctx) => {
      const connection = ctx.connection;
      if (!connection) throw badInput('renewConnectionToken renews a WebSocket connection: over HTTP or SSE there is none (send the new token with each request)', 'accessToken');
      const token = parseBearer(accessToken);
      if (!token) throw badInput('accessToken is empty', 'accessToken');
      let viewer;
      try {
        viewer = await ctx.services.auth.authenticate(token);
      } catch (error) {
        if (error instanceof TokenError) throw unauthenticated(error.message);
        throw error;
      }
      const refusal = ctx.services.connections.renew(connection, viewer);
      if (refusal) throw forbidden(refusal.error);
      return new Date(viewer.tokenExpiresAt);
    },
  }),
);
