/**
 * Post counters live (the old `client --test post`): subscribes to postStats and postUpdated, then
 * counts a view and a like so the subscription shows them.
 *   npx tsx examples/post-stats.ts --url http://localhost:4000/graphql --token T --post-id ID [--count 3]
 */
import { GetPostStatsDocument, LikePostDocument, OnPostStatsDocument, OnPostUpdatedDocument, TrackPostViewDocument } from '../src/generated/graphql/graphql.js';
import { connect, exampleOptions, request, required, run, show, subscribe } from './lib/herald-client.js';

run(async () => {
  const options = exampleOptions(['post-id', 'count']);
  const postId = required(options, 'post-id', 'post-stats.ts --token T --post-id ID [--count 3]');
  const count = Number(options.values.count ?? 3);

  show('stats (query)', (await request(options, GetPostStatsDocument, { postId })).postStats);

  const client = connect(options);
  // Content changes, printed while the stats stream runs.
  const updates = (async () => {
    for await (const event of subscribe(client, OnPostUpdatedDocument, { postId })) show('postUpdated', event.postUpdated);
  })().catch((error: unknown) => console.error('postUpdated:', error instanceof Error ? error.message : error));

  let received = 0;
  for await (const event of subscribe(client, OnPostStatsDocument, { postId })) {
    show('postStats', event.postStats);
    // The first event is the current state: then act, so the next ones show the changes.
    if (received === 0 && options.token) {
      show('trackPostView', (await request(options, TrackPostViewDocument, { postId })).trackPostView);
      show('likePost', (await request(options, LikePostDocument, { postId })).likePost);
    }
    if (++received >= count) break;
  }
  await client.dispose();
  await updates;
});
