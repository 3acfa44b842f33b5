/**
 * Health: the query once over HTTP, then live reports over WebSocket (the old `client --test health`).
 * No token needed.
 *   npx tsx examples/health.ts --url http://localhost:4000/graphql [--count 3] [--interval 2]
 */
import { HealthDocument, OnHealthDocument } from '../src/generated/graphql/graphql.js';
import { connect, exampleOptions, request, run, show, subscribe } from './lib/herald-client.js';

run(async () => {
  const options = exampleOptions(['count', 'interval']);
  const count = Number(options.values.count ?? 3);
  const { health } = await request(options, HealthDocument);
  show('health', health);

  const client = connect(options);
  let received = 0;
  for await (const event of subscribe(client, OnHealthDocument, { intervalSeconds: Number(options.values.interval ?? 2) })) {
    show('health (live)', event.health);
    if (++received >= count) break;
  }
  await client.dispose();
});
