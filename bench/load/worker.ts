/**
 * A load worker: holds up to a few thousand WebSocket subscribers (raw, graphql-transport-ws or the legacy
 * subscriptions-transport-ws, spoken by hand so the load side stays cheap), records mutation→subscriber latency into an HDR histogram and counts
 * deliveries per client. Driven over IPC by the harness.
 */
import WebSocket from 'ws';
import * as hdr from 'hdr-histogram-js';
import { nowMs, type Command, type ConnectCommand, type ConnectResult, type LoadReport, type Reply, type StormReport } from './protocol.js';

const STAMP = /"content":"(\d+\.\d+)\|(\d+)\|/;

interface Client {
  readonly index: number;
  readonly postId: string;
  readonly token: string | null;
  ws: WebSocket | null;
  subId: number;
  churner: boolean;
  closing: boolean;
}

let histogram = newHistogram();
let recording = false;
let counts = new Uint32Array(0);
const clients: Client[] = [];
let errors = 0;
let closedUnexpectedly = 0;
let lastError: string | null = null;
let spec: ConnectCommand | null = null;
const timers = new Set<NodeJS.Timeout>();

function newHistogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

/** Events published before the last reset (late arrivals of an earlier step) are not counted. */
let fromSeq = 0;

/** The storm under way: when it began and, per client, when it was subscribed and delivering again. */
let storm: { readonly startedAt: number; readonly fromSeq: number; readonly subscribedMs: Float64Array; readonly deliveringMs: Float64Array } | null = null;

function onEvent(client: Client, text: string) {
  const match = STAMP.exec(text);
  if (storm && match && Number(match[2]) >= storm.fromSeq && storm.deliveringMs[client.index]! < 0) storm.deliveringMs[client.index] = nowMs() - storm.startedAt;
  if (match && Number(match[2]) < fromSeq) return;
  counts[client.index]! += 1;
  if (recording && match) histogram.recordValue(Math.max(1, Math.round((nowMs() - Number(match[1])) * 1000)));
}

function subscribeFrame(client: Client): string {
  client.subId += 1;
  const type = spec!.protocol === 'legacy' ? 'start' : 'subscribe';
  return JSON.stringify({ id: String(client.subId), type, payload: { query: spec!.query, variables: { postId: client.postId } } });
}

/** The client's end of a subscription: graphql-transport-ws `complete`, legacy `stop`. */
function unsubscribeFrame(client: Client): string {
  return JSON.stringify({ id: String(client.subId), type: spec!.protocol === 'legacy' ? 'stop' : 'complete' });
}

function open(client: Client, token: string | null, done: (ok: boolean) => void) {
  const raw = spec!.protocol === 'raw';
  const legacy = spec!.protocol === 'legacy';
  const dataType = legacy ? '"type":"data"' : '"type":"next"';
  const ws = new WebSocket(spec!.url, raw ? undefined : legacy ? 'graphql-ws' : 'graphql-transport-ws', { perMessageDeflate: false, handshakeTimeout: spec!.timeoutMs });
  client.ws = ws;
  let settled = false;
  const settle = (ok: boolean) => {
    if (!settled) {
      settled = true;
      done(ok);
    }
  };
  ws.on('open', () => {
    if (raw) ws.send(JSON.stringify({ sub: client.postId }));
    else ws.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }));
  });
  ws.on('message', (data) => {
    const text = String(data);
    if (raw) {
      if (text.startsWith('{"subscribed"')) settle(true);
      else onEvent(client, text);
      return;
    }
    if (text.includes(dataType)) return onEvent(client, text);
    const message = JSON.parse(text) as { type: string; id?: string; payload?: unknown };
    if (message.type === 'connection_ack') {
      ws.send(subscribeFrame(client));
      settle(true);
    } else if (message.type === 'ping') ws.send('{"type":"pong"}');
    else if (message.type === 'error' || message.type === 'connection_error' || (message.type === 'complete' && message.id === String(client.subId))) {
      errors += 1;
      lastError = text.slice(0, 500);
    }
  });
  ws.on('error', (error) => {
    lastError = String(error).slice(0, 500);
    settle(false);
  });
  ws.on('close', (code, reason) => {
    // A socket the storm dropped closes after its client has opened the next one: not a loss.
    if (!client.closing && client.ws === ws) {
      closedUnexpectedly += 1;
      lastError = `closed ${code} ${String(reason)}`;
    }
    settle(false);
  });
}

async function connect(command: ConnectCommand): Promise<ConnectResult> {
  spec = command;
  const start = Date.now();
  const base = clients.length;
  const grown = new Uint32Array(base + command.clients.length);
  grown.set(counts);
  counts = grown;
  let next = 0;
  let subscribed = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(resolve, command.timeoutMs);
    const launch = () => {
      if (next >= command.clients.length) {
        if (subscribed + failed === command.clients.length) {
          clearTimeout(deadline);
          resolve();
        }
        return;
      }
      const i = next++;
      const client: Client = { index: base + i, postId: command.clients[i]!.postId, token: command.clients[i]!.token, ws: null, subId: 0, churner: false, closing: false };
      clients.push(client);
      open(client, command.clients[i]!.token, (ok) => {
        if (ok) subscribed += 1;
        else failed += 1;
        launch();
      });
    };
    for (let k = 0; k < Math.min(command.concurrency, command.clients.length); k++) launch();
    if (command.clients.length === 0) resolve();
  });
  return { subscribed, failed: command.clients.length - subscribed, ms: Date.now() - start };
}

function report(expected: Record<string, number>): LoadReport {
  let received = 0;
  let withAny = 0;
  let missing = 0;
  let extra = 0;
  let churnReceived = 0;
  for (const client of clients) {
    const got = counts[client.index]!;
    received += got;
    if (got > 0) withAny += 1;
    if (client.churner) {
      churnReceived += got;
      continue;
    }
    const want = expected[client.postId] ?? 0;
    if (got < want) missing += want - got;
    else extra += got - want;
  }
  return {
    clients: clients.length,
    received,
    clientsWithAny: withAny,
    missing,
    extra,
    churnReceived,
    errors,
    closedUnexpectedly,
    histogram: hdr.encodeIntoCompressedBase64(histogram),
    lastError,
  };
}

/** Every `periodMs`, each client chosen as a churner completes its subscription and subscribes again. */
function churn(fraction: number, periodMs: number, durationMs: number) {
  const every = Math.max(1, Math.round(1 / fraction));
  const churners = clients.filter((c) => c.index % every === 0);
  for (const c of churners) c.churner = true;
  const until = Date.now() + durationMs;
  churners.forEach((client, n) => {
    const offset = (n / churners.length) * periodMs;
    const cycle = () => {
      if (Date.now() >= until || !client.ws || client.ws.readyState !== WebSocket.OPEN) return;
      if (spec!.protocol === 'raw') {
        client.ws.send(JSON.stringify({ unsub: client.postId }));
        client.ws.send(JSON.stringify({ sub: client.postId }));
      } else {
        client.ws.send(unsubscribeFrame(client));
        client.ws.send(subscribeFrame(client));
      }
      const timer = setTimeout(cycle, periodMs);
      timers.add(timer);
    };
    const timer = setTimeout(cycle, offset);
    timers.add(timer);
  });
}

/** graphql-ws's client defaults: 5 retry attempts, waiting 1 s doubling per retry plus 300–3,000 ms of jitter. */
const RETRY_ATTEMPTS = 5;
const retryWaitMs = (retries: number) => 1000 * 2 ** retries + 300 + Math.floor(Math.random() * 2700);

/**
 * Every socket dropped at once (a network blip or a load balancer's restart, as the server sees it), and every
 * client reconnecting at once, each retrying as graphql-ws does until it is subscribed again. Resolves once
 * every client has received an event published after the drop (the harness keeps publishing), or gave up, or
 * at the timeout.
 */
async function reconnectStorm(stormFromSeq: number, timeoutMs: number): Promise<StormReport> {
  const current = { startedAt: nowMs(), fromSeq: stormFromSeq, subscribedMs: new Float64Array(clients.length).fill(-1), deliveringMs: new Float64Array(clients.length).fill(-1) };
  storm = current;
  let retries = 0;
  let gaveUp = 0;
  const attempt = (client: Client, retry: number) => {
    open(client, client.token, (ok) => {
      if (ok) {
        current.subscribedMs[client.index] = nowMs() - current.startedAt;
        return;
      }
      if (retry >= RETRY_ATTEMPTS) {
        gaveUp += 1;
        return;
      }
      retries += 1;
      const timer = setTimeout(() => attempt(client, retry + 1), retryWaitMs(retry));
      timers.add(timer);
    });
  };
  for (const client of clients) {
    const old = client.ws;
    client.ws = null;
    old?.terminate();
  }
  for (const client of clients) attempt(client, 0);
  const deadline = Date.now() + timeoutMs;
  const unsettled = () => {
    let waiting = 0;
    for (let i = 0; i < clients.length; i++) if (current.deliveringMs[i]! < 0) waiting += 1;
    return waiting - gaveUp;
  };
  while (unsettled() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  storm = null;
  return { clients: clients.length, subscribedMs: [...current.subscribedMs], deliveringMs: [...current.deliveringMs], retries, gaveUp, lastError };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'connect':
      return connect(command);
    case 'reset':
      fromSeq = command.fromSeq;
      histogram = newHistogram();
      counts.fill(0);
      errors = 0;
      closedUnexpectedly = 0;
      lastError = null;
      for (const client of clients) client.churner = false;
      return null;
    case 'record':
      recording = command.on;
      return null;
    case 'report':
      return report(command.expected);
    case 'churn':
      churn(command.fraction, command.periodMs, command.durationMs);
      return null;
    case 'storm':
      return reconnectStorm(command.fromSeq, command.timeoutMs);
    case 'close':
      for (const timer of timers) clearTimeout(timer);
      for (const client of clients) {
        client.closing = true;
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
