import {
  LegacyMeDocument,
  LegacyNotificationsDocument,
  type LegacyNotificationsSubscription,
  type LegacyNotificationsSubscriptionVariables,
  type NotificationType,
} from '../../generated/graphql/graphql.js';
import type { ClientMessage, EndpointSession, LegacyEndpoint } from './endpoint.js';
import { notLoggedIn, notificationTypeOf, oldTypeName, snakeKeys } from './messages.js';

const KEY = 'notifications';
const ALL_TYPES: readonly NotificationType[] = ['BLOG_POST_PUBLISHED', 'COMMENT_ADDED', 'COMMENT_APPROVED', 'POST_LIKED', 'SYSTEM_ALERT'];

type Notification = LegacyNotificationsSubscription['notifications'];

/** The old `notification` message's data: Herald's Notification in the old field names. */
function notificationData(n: Notification): Record<string, unknown> {
  return {
    id: n.id,
    notification_type: oldTypeName(n.notificationType),
    title: n.title,
    message: n.message,
    icon: n.icon,
    color: n.color,
    data: snakeKeys(n.data),
    is_broadcast: n.isBroadcast,
    created_at: n.createdAt,
  };
}

/** The types now selected: null = every type (the socket's start, as the old per-user group). */
function selectedTypes(session: EndpointSession): readonly NotificationType[] | null {
  const variables = session.variablesOf(KEY) as LegacyNotificationsSubscriptionVariables | undefined;
  if (variables === undefined) return [];
  return (variables.types as NotificationType[] | null | undefined) ?? null;
}

/** The eventId of the last notification each socket was sent: a restart resumes after it. */
const lastSent = new WeakMap<EndpointSession, string>();

/**
 * (Re)starts `subscription notifications(types)` with this selection; an empty one ends it. A restart
 * resumes after the last notification sent (`after`), so none written in between is missed.
 */
function select(session: EndpointSession, types: readonly NotificationType[] | null): void {
  session.unsubscribe(KEY);
  if (types !== null && types.length === 0) return;
  const variables: LegacyNotificationsSubscriptionVariables = { types: types === null ? null : [...types], after: lastSent.get(session) ?? null };
  session.subscribe(KEY, LegacyNotificationsDocument, variables, (data) => {
    if (data.notifications.eventId) lastSent.set(session, data.notifications.eventId);
    session.send('notification', notificationData(data.notifications), data.notifications.timestamp);
  });
}

/** `notification_types` of a message: Herald's types, and the names it does not know. Null when the field is missing. */
function typesOf(message: ClientMessage): { known: NotificationType[]; unknown: string[] } | null {
  const names = message.notification_types;
  if (!Array.isArray(names) || names.length === 0) return null;
  const known: NotificationType[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const type = notificationTypeOf(name);
    if (type) {
      if (!known.includes(type)) known.push(type);
    } else unknown.push(String(name));
  }
  return { known, unknown };
}

function change(session: EndpointSession, message: ClientMessage, adding: boolean): void {
  const types = typesOf(message);
  if (!types) return session.error(`Invalid message: "${message.type}" needs "notification_types", a non-empty list of notification types`);
  if (types.unknown.length > 0) session.error(`Unknown notification types: ${types.unknown.join(', ')} (known: ${ALL_TYPES.map(oldTypeName).join(', ')})`, 'BAD_USER_INPUT');
  if (types.known.length === 0) return;
  const current = selectedTypes(session);
  let next: NotificationType[];
  // The first subscribe narrows "every type" to the ones asked for; later ones add to them.
  if (adding) next = current === null ? types.known : [...new Set([...current, ...types.known])];
  else next = (current ?? ALL_TYPES).filter((type) => !types.known.includes(type));
  // The same selection again keeps its subscription (nothing to restart).
  if (current === null || next.length !== current.length || next.some((type) => !current.includes(type))) select(session, next);
  session.send(adding ? 'subscribed' : 'unsubscribed', { notification_types: types.known.map(oldTypeName) });
}

/**
 * `/ws/notifications/` (the old NotificationConsumer): `welcome`, then the viewer's notifications of
 * every type (`subscription notifications`, only the viewer's own and broadcasts) until the first
 * `subscribe` names types; `subscribe`/`unsubscribe` restart it with the types selected.
 */
export const notificationsEndpoint: LegacyEndpoint = {
  name: 'NotificationConsumer',
  authenticates: true,
  opened(session) {
    return new Promise<void>((resolve) => {
      session.run(
        LegacyMeDocument,
        {},
        (data) => {
          if (!data.me) session.refuse([notLoggedIn()]);
          else {
            session.send('welcome', { message: 'Connected to notifications', user: data.me.username });
            select(session, null);
          }
          resolve();
        },
        {
          refused: (errors) => {
            session.refuse(errors);
            resolve();
          },
        },
      );
    });
  },
  messages: {
    subscribe: (session, message) => change(session, message, true),
    unsubscribe: (session, message) => change(session, message, false),
  },
};
