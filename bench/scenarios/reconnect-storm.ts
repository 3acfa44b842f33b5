/**
 * After scenario 1's last level: every idle subscriber drops its socket at the same moment and reconnects at once,
 * retrying as graphql-ws's client does, while one event a second is published to their topic. How long
 * until every client is subscribed again, and until every one receives events again: how long an outage that
 * reconnects everyone (a deploy, a network blip) lasts for the last client.
 */
import type { LoadPool } from '../lib/load-pool.js';
import type { Peer } from '../lib/peers.js';
import { nextSeq, publishAtRate } from '../lib/publisher.js';
import { sleep } from '../lib/proc.js';
import type { StormReport } from '../load/protocol.js';

export interface StormResult {
  readonly clients: number;
  /** Seconds from the drop until the last client was subscribed again / received an event again (null: not all did). */
  readonly allSubscribedS: number | null;
  readonly allDeliveringS: number | null;
  /** Per client, seconds until it received an event again. */
  readonly deliveringP50S: number | null;
  readonly deliveringP99S: number | null;
  readonly retries: number;
  /** Clients not delivering again within the timeout (gave up after graphql-ws's retries, or still waiting). */
  readonly notBack: number;
  readonly lastError: string | null;
}

/**
 * One event a second: 10,000 deliveries/s once 10,000 clients are back, the rate every peer's CPU is compared
 * at. Ten a second made it 100,000/s, past what most peers fan out, which measured fan-out, not reconnects.
 */
const PUBLISH_EVERY_MS = 1000;
const TIMEOUT_MS = 120_000;

export async function reconnectStorm(peer: Peer, pool: LoadPool, topic: string): Promise<StormResult> {
  const fromSeq = nextSeq();
  let stormOver = false;
  const publishing = (async () => {
    while (!stormOver) {
      await publishAtRate(peer, { events: 1, ratePerSec: 1e6, topic: () => topic, perRequest: 1, maxInFlight: 1 }).catch(() => undefined);
      await sleep(PUBLISH_EVERY_MS);
    }
  })();
  let reports: StormReport[];
  try {
    reports = await pool.storm(fromSeq, TIMEOUT_MS);
  } finally {
    stormOver = true;
    await publishing;
  }
  const subscribed = reports.flatMap((r) => r.subscribedMs);
  const delivering = reports.flatMap((r) => r.deliveringMs);
  const back = delivering.filter((ms) => ms >= 0).sort((a, b) => a - b);
  const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms) / 1000);
  const allOf = (values: number[]) => (values.every((ms) => ms >= 0) ? seconds(Math.max(...values)) : null);
  return {
    clients: delivering.length,
    allSubscribedS: allOf(subscribed),
    allDeliveringS: allOf(delivering),
    deliveringP50S: back.length ? seconds(back[Math.floor(back.length * 0.5)]) : null,
    deliveringP99S: back.length ? seconds(back[Math.min(back.length - 1, Math.floor(back.length * 0.99))]) : null,
    retries: reports.reduce((s, r) => s + r.retries, 0),
    notBack: delivering.length - back.length,
    lastError: reports.find((r) => r.lastError)?.lastError ?? null,
  };
}
