/**
 * `npm run bench:replay [-- --events 2000 --subscribers 20 --rounds 3]`
 *
 * What a resume costs (issue #12): `--events` post updates are written, then `--subscribers` clients
 * (one socket each) subscribe to `postUpdated` with `after` = the cursor before them, and each receives
 * all of them from the event log before going live. Reported: replayed events per second (all
 * subscribers together, first subscribe to last event) and the server's CPU per replayed event (utime +
 * stime from /proc over the replay, minus what the same subscribers cost connecting and subscribing
 * without a cursor, measured just before in the same round).
 *
 * Herald runs as the bench peer does (its own process, pinned to core 0; PostgreSQL when it answers,
 * else embedded PGlite); this harness is pinned to core 1.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createBenchDatabase, type Database } from './lib/backends.js';
import { startPeer, type Peer } from './lib/peers.js';
import { killAll, LOAD_CORE, pinSelf } from './lib/proc.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a positive whole number`);
  return value;
}

const EVENTS = option('events', 2000);
const SUBSCRIBERS = option('subscribers', 20);
const ROUNDS = option('rounds', 3);
const SUBSCRIPTION = 'subscription($postId: ID!, $after: String) { postUpdated(postId: $postId, after: $after) { eventId change post { id title } } }';
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Receiver {
  readonly client: Client;
  /** Resolves once `count` events arrived; the first one's eventId is kept. */
  readonly done: Promise<void>;
  first: string | null;
}

function receive(peer: Peer, postId: string, after: string | null, count: number, index: number): Receiver {
  const client = createClient({ url: peer.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, onNonLazyError: () => undefined, connectionParams: { authorization: `Bearer ${peer.tokenFor(index)}` } });
  const receiver: Receiver = { client, first: null, done: Promise.resolve() };
  let got = 0;
  (receiver as { done: Promise<void> }).done = new Promise<void>((resolve, reject) => {
    if (count === 0) resolve();
    client.subscribe(
      { query: SUBSCRIPTION, variables: { postId, after } },
      {
        next: (result) => {
          if (result.errors) return reject(new Error(JSON.stringify(result.errors)));
          receiver.first ??= (result.data as { postUpdated: { eventId: string } }).postUpdated.eventId;
          if (++got === count) resolve();
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => undefined,
      },
    );
  });
  return receiver;
}

/** Connects `SUBSCRIBERS` sockets (resuming after `cursor`, or live), waits until each received `count`. */
async function round(peer: Peer, postId: string, cursor: string | null, count: number): Promise<{ ms: number; cpu: number }> {
  const cpu0 = peer.cpu();
  const t0 = performance.now();
  const receivers = Array.from({ length: SUBSCRIBERS }, (_, i) => receive(peer, postId, cursor, count, i));
  if (count === 0) {
    // Live subscribers: wait until each is subscribed (an event written now reaches all of them).
    await Promise.all(receivers.map((r) => new Promise<void>((resolve) => r.client.on('connected', () => resolve()))));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await Promise.all(receivers.map((r) => r.done));
  const ms = performance.now() - t0;
  const cpu = peer.cpu() - cpu0;
  await Promise.all(receivers.map((r) => r.client.dispose()));
  return { ms, cpu };
}

async function cursorBefore(peer: Peer, postId: string): Promise<string> {
  const receiver = receive(peer, postId, null, 1, 0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await peer.publish([{ postId, content: 'cursor' }]);
  await receiver.done;
  await receiver.client.dispose();
  return receiver.first as string;
}

async function main(): Promise<void> {
  pinSelf(LOAD_CORE);
  let db: Database | null = null;
  let peer: Peer | null = null;
  try {
    db = await createBenchDatabase();
    log(`database: ${db.label}; ${EVENTS} events, ${SUBSCRIBERS} subscribers, ${ROUNDS} rounds`);
    peer = await startPeer('herald', { db, redis: null });
    const [postId] = await peer.topics(1);
    const rows: string[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const cursor = await cursorBefore(peer, postId!);
      for (let written = 0; written < EVENTS; written += 50) {
        const batch = Array.from({ length: Math.min(50, EVENTS - written) }, (_, i) => ({ postId: postId!, content: `r${r} e${written + i}` }));
        await peer.publish(batch);
      }
      const baseline = await round(peer, postId!, null, 0);
      const replay = await round(peer, postId!, cursor, EVENTS);
      const replayed = SUBSCRIBERS * EVENTS;
      const perEvent = (replay.cpu - baseline.cpu) / replayed;
      rows.push(`| ${r} | ${replayed} | ${Math.round(replay.ms)} | ${Math.round((replayed / replay.ms) * 1000).toLocaleString('en-US')} | ${perEvent.toFixed(1)} | ${(baseline.cpu / SUBSCRIBERS / 1000).toFixed(2)} |`);
      log(`round ${r}: ${replayed} replayed in ${Math.round(replay.ms)} ms, ${perEvent.toFixed(1)} µs CPU per replayed event`);
    }
    log('');
    log('| round | events replayed | ms | replayed events/s | server CPU µs per replayed event | connect+subscribe ms CPU per subscriber (no cursor) |');
    log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const row of rows) log(row);
  } finally {
    await peer?.stop();
    await db?.drop();
    killAll();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  killAll();
  process.exit(1);
});
