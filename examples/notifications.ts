/**
 * Notifications (the old `client --test notifications`): unread count and latest unread, then live
 * notifications of the given types until --count arrive. Mark them read with --mark-read yes.
 *   npx tsx examples/notifications.ts --url http://localhost:4000/graphql --token T [--types COMMENT_ADDED,POST_LIKED] [--count 1]
 */
import {
  MarkAllNotificationsReadDocument,
  NotificationsDocument,
  OnNotificationsDocument,
  UnreadNotificationCountDocument,
  type NotificationType,
} from '../src/generated/graphql/graphql.js';
import { connect, exampleOptions, request, run, show, subscribe } from './lib/herald-client.js';

run(async () => {
  const options = exampleOptions(['types', 'count', 'mark-read']);
  const types = options.values.types ? (options.values.types.split(',') as NotificationType[]) : null;
  const count = Number(options.values.count ?? 1);

  show('unread', (await request(options, UnreadNotificationCountDocument)).unreadNotificationCount);
  const latest = await request(options, NotificationsDocument, { unreadOnly: true, types, first: 5 });
  for (const { node } of latest.notifications.edges) show('notification', node);

  const client = connect(options);
  let received = 0;
  console.error(`waiting for ${count} notification(s)${types ? ` of ${types.join(', ')}` : ''}...`);
  for await (const event of subscribe(client, OnNotificationsDocument, { types })) {
    show('notifications (live)', event.notifications);
    if (++received >= count) break;
  }
  if (options.values['mark-read'] === 'yes') show('markAllNotificationsRead', (await request(options, MarkAllNotificationsReadDocument)).markAllNotificationsRead);
  await client.dispose();
});
