/**
 * A soak client worker: holds a few thousand authenticated graphql-transport-ws sockets (spoken by hand, so the
 * load side stays cheap), each running one durable subscription. It reconnects on any close (home instance
 * first, then the other), renews tokens on the socket or lets them expire (4403) as told, churns on request,
 * resubscribes with `after: <last eventId>` when the server resumes, and records every event it receives
 * (sequence, eventId, latency) so the harness can count missing and duplicate events per subscriber.
 */
import WebSocket from 'ws';
import * as hdr from 'hdr-histogram-js';
import { RENEW, subscriptionDocument } from './documents.js';
import { accountFor, type Client } from './accounting.js';
import { parseStamp, tokenExpiry, type Command, type ConnectCommand, type ConnectResult, type Reply, type WorkerStatus } from './protocol.js';


const EVENT_ID = /"eventId":"([^"]+)"/;
const MESSAGE_ID = /"id":"([^"]+)"/;
const clients: Client[] = [];
const counters: Record<string, number> = {};
const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
/** Write → receive latency per subscription kind (µs). */
const histograms: Record<string, hdr.Histogram> = {};
let spec: ConnectCommand | null = null;
let tokens: string[] = [];
let documents: Record<string, string> = {};
let received = 0;
let lastReceivedAt: number[] = [];
let lastError: string | null = null;
let lastUnstamped: string | null = null;
let stopped = false;
let churnTimer: NodeJS.Timeout | null = null;

const count = (name: string, by = 1) => (counters[name] = (counters[name] ?? 0) + by);

/** FNV-1a: a number per eventId (duplicates are told from stale reads without keeping the strings). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function subscribe(client: Client, ws: WebSocket): void {
  client.subId += 1;
  const variables: Record<string, unknown> = {};
  if (client.spec.postId) variables.postId = client.spec.postId;
  if (spec!.resume && client.lastEventId) variables.after = client.lastEventId;
  ws.send(JSON.stringify({ id: `s${client.subId}`, type: 'subscribe', payload: { query: documents[client.spec.kind], variables } }));
}

function onEvent(client: Client, text: string): void {
  received += 1;
  const now = Date.now();
  lastReceivedAt[client.at] = now;
  const eventId = EVENT_ID.exec(text)?.[1];
  if (eventId) client.lastEventId = eventId;
  const stamp = parseStamp(text);
  if (!stamp) {
    lastUnstamped = text.slice(0, 300);
    count('unstampedEvents');
    return;
  }
  if (!client.firstAt) client.firstAt = now;
  (histograms[client.spec.kind] ??= newHistogram()).recordValue(Math.max(1, Math.round((now - stamp.sentAt) * 1000)));
  const h = eventId ? hash(eventId) : 0;
  const before = client.received.get(stamp.seq);
  if (before === undefined) client.received.set(stamp.seq, h);
  else if (before === h) client.duplicates += 1;
  else client.stale += 1; // another event showing the same content (a post read after a later write)
}

function scheduleRenew(client: Client, inMs?: number): void {
  if (!client.spec.renews) return;
  if (client.renewTimer) clearTimeout(client.renewTimer);
  const left = client.exp - Date.now();
  const delay = inMs ?? Math.max(1000, left * (0.5 + Math.random() * 0.3));
  client.renewTimer = setTimeout(() => renew(client), delay);
}

function renew(client: Client): void {
  client.renewTimer = null;
  const ws = client.ws;
  if (!client.live || !ws || ws.readyState !== WebSocket.OPEN) return;
  const token = tokens[client.spec.user]!;
  // Only a token that lives longer than the socket's current one is worth handing over.
  if (tokenExpiry(token) <= client.exp + 1000) return scheduleRenew(client, 5000);
  ws.send(JSON.stringify({ id: `r${client.subId}`, type: 'subscribe', payload: { query: RENEW, variables: { t: token } } }));
}

function onMessage(client: Client, ws: WebSocket, text: string, settle: (ok: boolean) => void): void {
  if (client.ws !== ws) return;
  if (text.includes('"type":"next"')) {
    const id = MESSAGE_ID.exec(text)?.[1];
    if (id === `s${client.subId}`) return onEvent(client, text);
    if (id?.startsWith('s')) return; // a completed subscription's last event
  }
  const message = JSON.parse(text) as { type: string; id?: string; payload?: unknown };
  if (message.type === 'ping') return ws.send('{"type":"pong"}');
  if (message.type === 'connection_ack') {
    client.failures = 0;
    client.live = true;
    subscribe(client, ws);
    scheduleRenew(client);
    return settle(true);
  }
  if (message.id?.startsWith('r') && message.type === 'next') {
    const payload = message.payload as { data?: { renewConnectionToken?: string } | null; errors?: { extensions?: { code?: string } }[] };
    const until = payload.data?.renewConnectionToken;
    if (until) {
      count('renewals');
      client.exp = Date.parse(until);
      return scheduleRenew(client);
    }
    count(`renewError:${payload.errors?.[0]?.extensions?.code ?? 'unknown'}`);
    lastError = text.slice(0, 300);
    return scheduleRenew(client, 5000);
  }
  if (message.type === 'error' && message.id === `s${client.subId}`) {
    const code = (message.payload as { extensions?: { code?: string } }[] | undefined)?.[0]?.extensions?.code ?? 'unknown';
    count(`subscriptionError:${code}`);
    lastError = text.slice(0, 300);
    // A cursor the server refuses (RESUME_UNAVAILABLE): count it and start over without one (the gap is then the
    // client's to refetch). Anything else (SERVICE_UNAVAILABLE under load): subscribe again with the same cursor.
    if (spec!.resume && client.lastEventId) {
      if (code === 'RESUME_UNAVAILABLE') {
        count('resumeRefused');
        client.lastEventId = null;
      } else count('resumeRetried');
    }
    setTimeout(() => client.ws === ws && ws.readyState === WebSocket.OPEN && subscribe(client, ws), 1000);
    return;
  }
  if (message.type === 'complete' && message.id === `s${client.subId}`) {
    count('serverCompleted');
    setTimeout(() => client.ws === ws && ws.readyState === WebSocket.OPEN && subscribe(client, ws), 1000);
  }
}

function open(client: Client, settle: (ok: boolean) => void = () => undefined): void {
  const urls = spec!.urls;
  client.at = (client.spec.home + client.failures) % urls.length;
  const token = tokens[client.spec.user]!;
  client.exp = tokenExpiry(token);
  const ws = new WebSocket(urls[client.at]!, 'graphql-transport-ws', { perMessageDeflate: false, handshakeTimeout: 15_000 });
  client.ws = ws;
  client.live = false;
  count('connects');
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  ws.on('message', (data) => onMessage(client, ws, String(data), settle));
  ws.on('error', (error) => {
    lastError = String(error).slice(0, 300);
  });
  ws.on('close', (code, reason) => {
    if (client.ws !== ws) return;
    const wasLive = client.live;
    client.live = false;
    client.ws = null;
    if (client.renewTimer) clearTimeout(client.renewTimer);
    settle(false);
    if (stopped) return;
    count(`close:${code}`);
    if (!wasLive) client.failures += 1;
    const own = client.dropping;
    client.dropping = false;
    if (code === 4403 && !client.spec.renews) count('tokenExpiries');
    else if (!own && wasLive) {
      count('unexpectedCloses');
      lastError = `closed ${code} ${String(reason)}`;
    }
    const backoff = own || code === 4403 ? Math.random() * 300 : Math.min(5000, 200 * 2 ** Math.min(client.failures, 5)) * (0.5 + Math.random());
    setTimeout(() => !stopped && open(client), backoff);
  });
}

async function connect(command: ConnectCommand): Promise<ConnectResult> {
  spec = command;
  tokens = [...command.tokens];
  documents = Object.fromEntries((['postUpdated', 'commentAdded', 'notifications'] as const).map((k) => [k, subscriptionDocument(k, command.resume)]));
  lastReceivedAt = command.urls.map(() => 0);
  const start = Date.now();
  let next = 0;
  let connected = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(resolve, command.timeoutMs);
    const launch = () => {
      if (next >= command.clients.length) {
        if (connected + failed === command.clients.length) {
          clearTimeout(deadline);
          resolve();
        }
        return;
      }
      const client: Client = { spec: command.clients[next++]!, ws: null, at: 0, subId: 0, live: false, lastEventId: null, startedAt: Date.now(), firstAt: 0, received: new Map(), duplicates: 0, stale: 0, exp: 0, failures: 0, renewTimer: null, dropping: false };
      clients.push(client);
      let settled = false;
      open(client, (ok) => {
        if (settled) return;
        settled = true;
        if (ok) connected += 1;
        else failed += 1;
        launch();
      });
    };
    for (let k = 0; k < Math.min(command.concurrency, command.clients.length); k++) launch();
    if (command.clients.length === 0) resolve();
  });
  return { connected, failed, ms: Date.now() - start };
}

function pick(share: number): Client[] {
  const live = clients.filter((c) => c.live);
  const n = Math.round(share * clients.length + Math.random() - 0.5);
  const out: Client[] = [];
  for (let i = 0; i < n && live.length; i++) out.push(live.splice(Math.floor(Math.random() * live.length), 1)[0]!);
  return out;
}

function churn(reconnectShare: number, resubscribeShare: number): void {
  if (churnTimer) clearInterval(churnTimer);
  churnTimer = null;
  if (reconnectShare <= 0 && resubscribeShare <= 0) return;
  churnTimer = setInterval(() => {
    for (const client of pick(reconnectShare)) {
      client.dropping = true;
      count('churnReconnects');
      client.ws?.close(1000, 'soak churn');
    }
    for (const client of pick(resubscribeShare)) {
      const ws = client.ws!;
      count('churnResubscribes');
      ws.send(JSON.stringify({ id: `s${client.subId}`, type: 'complete' }));
      subscribe(client, ws);
    }
  }, 1000);
}

function status(): WorkerStatus {
  return { clients: clients.length, live: clients.filter((c) => c.live).length, received, lastReceivedAt, counters: { ...counters }, lastError, lastUnstamped };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'connect':
      return connect(command);
    case 'tokens':
      for (const [user, token] of Object.entries(command.tokens)) tokens[Number(user)] = token;
      return null;
    case 'churn':
      churn(command.reconnectShare, command.resubscribeShare);
      return null;
    case 'status':
      return status();
    case 'report':
      return { ...accountFor(clients, command.written), histograms: Object.fromEntries(Object.entries(histograms).map(([k, h]) => [k, hdr.encodeIntoCompressedBase64(h)])) };
    case 'close':
      stopped = true;
      churn(0, 0);
      for (const client of clients) {
        if (client.renewTimer) clearTimeout(client.renewTimer);
        client.ws?.terminate();
      }
      setTimeout(() => process.exit(0), 50);
      return null;
  }
}

process.on('message', (command: Command) => {
  handle(command).then(
    (result) => process.send!({ id: command.id, ok: true, result } satisfies Reply),
    (error: unknown) => process.send!({ id: command.id, ok: false, error: String(error) } satisfies Reply),
  );
});
process.on('disconnect', () => process.exit(0));
