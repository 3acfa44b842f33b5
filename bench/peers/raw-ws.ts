/**
 * The floor: a plain `ws` broadcast server with no GraphQL. Clients send {"sub": postId} / {"unsub": postId};
 * POST /publish {events: [{postId, content}]} serialises each event once and writes it to every socket of the topic.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { announceReady, commentEvent, portFromEnv, readJson, type PublishRequest } from './common.js';

const topics = new Map<string, Set<WebSocket>>();

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
        for (const ws of sockets) ws.send(frame);
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
  announceReady({ port: (server.address() as AddressInfo).port, ws: '/ws', protocol: 'raw' });
});
