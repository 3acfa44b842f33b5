/**
 * The floor: a plain `ws` broadcast server with no GraphQL. Clients send {"sub": postId} / {"unsub": postId};
 * POST /publish {events: [{postId, content}]} serialises each event once and writes it to every socket of the topic.
 * Two framings (BENCH_FLOOR_FRAMING): `naive` (default) calls `ws.send(string)` per socket, so `ws` encodes
 * and frames the same string again for every socket; `prepared` frames the event once (`Sender.frame`, what
 * the ws maintainers advise for broadcasts, ws#617/#1016, like gorilla's PreparedMessage and uWS's
 * publishPrepared) and writes that same Buffer to every socket: the practical limit of a Node broadcast.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import * as wsLib from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { announceReady, commentEvent, portFromEnv, readJson, type PublishRequest } from './common.js';

const topics = new Map<string, Set<WebSocket>>();
const prepared = process.env.BENCH_FLOOR_FRAMING === 'prepared';
// ws exports its Sender at run time; @types/ws does not declare it.
const { Sender } = wsLib as unknown as { Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] } };

/** One unmasked text frame (header + payload) as one Buffer, built once per event. */
function preparedFrame(text: string): Buffer {
  return Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }));
}

/** The socket under a `ws` WebSocket (not typed by @types/ws): writing a whole frame there cannot interleave with ws's own frames. */
const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/publish') {
    res.writeHead(404).end();
    return;
  }
  readJson(req).then(
    (body) => {
      const { events } = body as PublishRequest;
      for (const { postId, content } of events) {
        const sockets = topics.get(postId);
        if (!sockets) continue;
        const frame = JSON.stringify(commentEvent(postId, content));
        if (prepared) {
          const bytes = preparedFrame(frame);
          for (const ws of sockets) if (ws.readyState === ws.OPEN) socketOf(ws).write(bytes);
        } else {
          for (const ws of sockets) ws.send(frame);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"published":${events.length}}`);
    },
    () => res.writeHead(400).end(),
  );
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (ws) => {
  const mine = new Set<string>();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { sub?: string; unsub?: string };
    if (message.sub) {
      let set = topics.get(message.sub);
      if (!set) topics.set(message.sub, (set = new Set()));
      set.add(ws);
      mine.add(message.sub);
      ws.send(`{"subscribed":${JSON.stringify(message.sub)}}`);
    } else if (message.unsub) {
      topics.get(message.unsub)?.delete(ws);
      mine.delete(message.unsub);
    }
  });
  ws.on('close', () => {
    for (const topic of mine) topics.get(topic)?.delete(ws);
  });
});

server.listen(portFromEnv(), '127.0.0.1', () => {
  announceReady({ port: (server.address() as AddressInfo).port, ws: '/ws', protocol: 'raw', framing: prepared ? 'prepared' : 'naive' });
});
