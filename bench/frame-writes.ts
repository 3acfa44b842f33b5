/**
 * `npm run bench:writes`: server CPU to write one subscription frame to each of 1,000 open sockets, three ways
 * alternated in one process: Herald's `sendFrameParts` (a shared payload and a per-socket head), `ws.send` of the
 * whole string (the naive floor), and one prebuilt frame Buffer per socket (the prepared floor). The clients run in
 * a child process on the other core, reading and discarding. It isolates the write from everything else a
 * delivery costs (the fan-out scenarios of `npm run bench` measure the whole).
 */
import { execSync, fork } from 'node:child_process';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { DeliveredResult } from '../src/graphql/delivery/delivered-result.js';
import { sendFrameParts, wholeFrame } from '../src/transport/ws/prepared-frames.js';

const SOCKETS = 1000;
const ROUNDS = 10;
const EVENTS_PER_ROUND = 100;

if (process.argv[2] === 'clients') {
  let open = 0;
  for (let i = 0; i < SOCKETS; i++) {
    const client = new WebSocket(process.argv[3] as string);
    client.on('open', () => {
      if (++open === SOCKETS) process.send?.('ready');
    });
    client.on('message', () => undefined);
  }
} else {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const child = fork(fileURLToPath(import.meta.url), ['clients', `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`]);
  try {
    execSync(`taskset -p -c 1 ${child.pid} && taskset -p -c 0 ${process.pid}`, { stdio: 'ignore' });
  } catch {
    // No taskset: unpinned, noisier.
  }
  await new Promise((resolve) => child.once('message', resolve));
  const clients = [...wss.clients];
  const result = new DeliveredResult({ data: { commentAdded: { id: 'c1', postId: 'p1', content: 'x'.repeat(150), author: { id: 'u1', username: 'alice' }, createdAt: new Date(0).toISOString() } } });
  const shared = result.framed('"type":"next","payload":');
  const head = '{"id":"0b6f8f1e-9d1c-4c55-a1a3-0f7c1d2e3f4a",';
  const text = head + shared.toString();
  const prepared = wholeFrame(head, shared);
  const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;
  const ways: Record<string, (ws: WebSocket) => void> = {
    'Herald sendFrameParts': (ws) => sendFrameParts(ws, head, shared),
    'naive ws.send(string)': (ws) => ws.send(text),
    'prepared Buffer write': (ws) => socketOf(ws).write(prepared),
  };
  const names = Object.keys(ways);
  const micros = new Map(names.map((name) => [name, 0]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 ? names : [...names].reverse()) {
      const write = ways[name] as (ws: WebSocket) => void;
      const start = process.cpuUsage();
      for (let event = 0; event < EVENTS_PER_ROUND; event++) {
        for (const ws of clients) write(ws);
        // Let the writes complete between events, as a fan-out at a steady rate does.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const used = process.cpuUsage(start);
      micros.set(name, (micros.get(name) as number) + used.user + used.system);
    }
  }
  const frames = ROUNDS * EVENTS_PER_ROUND * SOCKETS;
  for (const name of names) console.log(`${name}: ${((micros.get(name) as number) / frames).toFixed(2)} µs CPU per frame (${shared.length + head.length} B payload)`);
  child.kill();
  wss.close();
}
