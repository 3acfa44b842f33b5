/**
 * A soak client's state, and the accounting over all of a worker's clients: for each, the accepted writes on its
 * topic sent after its first event arrived are what it must have received; missing, duplicates (the same eventId
 * twice) and unmatched events are counted against that.
 */
import type WebSocket from 'ws';
import { topicKey, type SoakClientSpec, type SubscriberReport, type Written } from './protocol.js';

export interface Client {
  readonly spec: SoakClientSpec;
  ws: WebSocket | null;
  /** Instance index the current socket went to. */
  at: number;
  subId: number;
  live: boolean;
  lastEventId: string | null;
  startedAt: number;
  firstAt: number;
  /** seq → hash of the eventId that carried it. */
  readonly received: Map<number, number>;
  duplicates: number;
  stale: number;
  exp: number;
  /** Consecutive attempts that never reached connection_ack (picks the next instance). */
  failures: number;
  renewTimer: NodeJS.Timeout | null;
  dropping: boolean;
}

export function accountFor(clients: readonly Client[], written: Record<string, Written[]>): Omit<SubscriberReport, 'histograms'> {
  const byKind: SubscriberReport['byKind'] = {};
  let expected = 0;
  let got = 0;
  let missing = 0;
  let duplicates = 0;
  let unmatched = 0;
  let clientsMissing = 0;
  let worstMissing = 0;
  const missingPerClient: number[] = Array.from({ length: 21 }, () => 0);
  const perClient: SubscriberReport['perClient'] = [];
  for (const client of clients) {
    const writes = written[topicKey(client.spec.kind, client.spec.postId)] ?? [];
    const since = client.firstAt || client.startedAt;
    const seqs = new Set<number>();
    let want = 0;
    let lost = 0;
    for (const w of writes) {
      seqs.add(w.seq);
      if (w.sentAt < since) continue;
      want += 1;
      if (!client.received.has(w.seq)) lost += 1;
    }
    // `postUpdated { post }` is the post as it is when the event is delivered: an event whose write a later one
    // overtook (a replay after a reconnect, say) shows the later content, under its own eventId. Each such
    // event stands for one write whose content was never shown, so it is delivered, not missing.
    if (client.spec.kind === 'postUpdated') lost = Math.max(0, lost - client.stale);
    missingPerClient[Math.min(lost, 20)]! += 1;
    perClient.push([client.spec.index, want, want - lost, lost, client.duplicates]);
    for (const seq of client.received.keys()) if (!seqs.has(seq)) unmatched += 1;
    const kind = (byKind[client.spec.kind] ??= { clients: 0, expected: 0, missing: 0, duplicates: 0 });
    kind.clients += 1;
    kind.expected += want;
    kind.missing += lost;
    kind.duplicates += client.duplicates;
    expected += want;
    got += client.received.size;
    missing += lost;
    duplicates += client.duplicates;
    if (lost > 0) clientsMissing += 1;
    worstMissing = Math.max(worstMissing, lost);
  }
  const stale = clients.reduce((s, c) => s + c.stale, 0);
  return { clients: clients.length, stale, missingPerClient, perClient, expected, received: got, missing, duplicates, unmatched, clientsMissing, worstMissing, byKind };
}
