import { builder } from '../../graphql/builder.js';
import { limitSubject } from '../../graphql/rate-limit-subject.js';
import type { User } from '../../generated/prisma/client.js';
import { newEventIdentity } from '../../realtime/event-id.js';
import { topics, type EventIdentity } from '../../realtime/topics.js';
import { UserRef } from '../users/user.schema.js';
import { subscribeToPost } from '../posts/post-subscription.js';

/** A typing change, or (userId null) the snapshot sent when a subscription starts. */
interface TypingShape extends EventIdentity {
  readonly postId: string;
  readonly userId: string | null;
  readonly isTyping: boolean;
  readonly typingUserIds: readonly string[];
}

const TypingEventRef = builder.objectRef<TypingShape>('TypingEvent').implement({
  description: 'Someone started or stopped typing a comment on a post.',
  fields: (t) => ({
    eventId: t.exposeString('eventId', { description: 'Identity of the event (sortable, unique across instances).' }),
    timestamp: t.field({ type: 'DateTime', resolve: (e) => e.timestamp }),
    postId: t.exposeID('postId'),
    user: t.field({
      type: UserRef,
      nullable: true,
      description: 'Who started or stopped; null in the snapshot a subscription starts with.',
      resolve: (e, _a, ctx) => (e.userId ? ctx.services.users.byId(e.userId) : null),
    }),
    isTyping: t.exposeBoolean('isTyping', { description: 'Whether `user` is typing now (true in the starting snapshot).' }),
    typingUsers: t.field({
      type: [UserRef],
      description: 'Everyone typing on the post after this change, ordered by user id.',
      resolve: async (e, _a, ctx) => {
        const users = await Promise.all(e.typingUserIds.map((id) => ctx.services.users.byId(id)));
        return users.filter((u): u is User => u !== null);
      },
    }),
  }),
});

builder.mutationField('setTyping', (t) =>
  t.boolean({
    description:
      'Reports that the viewer is (or stopped) typing a comment on a post. Typing ends by itself TYPING_TTL (5 s) after the last setTyping(true), so clients re-send while typing; re-sends publish nothing. It also ends when the reporting WebSocket connection(s) close. Returns true.',
    authScopes: { loggedIn: true },
    args: { postId: t.arg.id({ required: true }), isTyping: t.arg.boolean({ required: true }) },
    resolve: async (_r, { postId, isTyping }, ctx) => {
      await ctx.services.rateLimits.consume('setTyping', limitSubject(ctx));
      await ctx.services.typing.set(ctx.viewer!, String(postId), isTyping, ctx.origin.connectionId);
      return true;
    },
  }),
);

builder.subscriptionField('typing', (t) =>
  t.field({
    type: TypingEventRef,
    description:
      'Who is typing a comment on a post. Starts with a snapshot (user null) when somebody already types, then every start and stop (expiry and disconnects included). Under backpressure the oldest events are dropped. NOT_FOUND when the post does not exist or the viewer may not see it.',
    args: { postId: t.arg.id({ required: true }) },
    subscribe: (_r, { postId }, ctx) =>
      subscribeToPost<'typingChanged', TypingShape>(ctx, String(postId), topics.typingChanged, {
        overflow: 'dropOldest',
        // The snapshot only when somebody already types; a change in between follows it, never lost.
        initial: async (id) => {
          const typingUserIds = await ctx.services.typing.typingUserIds(id);
          return typingUserIds.length === 0 ? null : { postId: id, userId: null, isTyping: true, typingUserIds, ...newEventIdentity() };
        },
      }),
    resolve: (event) => event,
  }),
);
