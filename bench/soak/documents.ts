/** The GraphQL documents soak clients send (graphql-transport-ws `subscribe` payloads). */
import type { SubscriptionKind } from './protocol.js';

const FIELDS: Record<SubscriptionKind, { args: string; selection: string }> = {
  postUpdated: { args: 'postId: $postId', selection: 'eventId post { content }' },
  commentAdded: { args: 'postId: $postId', selection: 'eventId comment { content }' },
  // Only the staff alerts the harness writes (readers also hear of posts published during set-up).
  notifications: { args: 'types: [SYSTEM_ALERT]', selection: 'eventId message' },
};

/** The subscription of `kind`, with `after: $after` when the server resumes (issue #12). */
export function subscriptionDocument(kind: SubscriptionKind, resume: boolean): string {
  const { args, selection } = FIELDS[kind];
  const vars = [kind === 'notifications' ? null : '$postId: ID!', resume ? '$after: String' : null].filter(Boolean);
  const allArgs = resume ? `${args}, after: $after` : args;
  return `subscription${vars.length ? `(${vars.join(', ')})` : ''} { ${kind}(${allArgs}) { ${selection} } }`;
}

export const RENEW = 'mutation($t: String!) { renewConnectionToken(accessToken: $t) }';

/** Which of the soak's subscriptions take `after` (introspection; the argument is being added by issue #12). */
export const INTROSPECT_AFTER = '{ __type(name: "Subscription") { fields { name args { name } } } }';

export const DURABLE: readonly SubscriptionKind[] = ['postUpdated', 'commentAdded', 'notifications'];
