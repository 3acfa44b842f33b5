import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import pino from 'pino';
import { DeliveredResult } from '../../src/graphql/delivery/delivered-result.js';
import { WsChannel } from '../../src/transport/ws/ws-channel.js';

const NEXT = '"type":"next","payload":';
const logger = pino({ level: 'silent' });

/** A real `ws` server whose sockets are WsChannels, and real `ws` clients that record the text they decode. */
describe('frames built once per result, written as a head and shared bytes', () => {
  let server: Server;
  let wss: WebSocketServer;
  const channels: WsChannel[] = [];
  const waiting: ((channel: WsChannel) => void)[] = [];
  let url: string;

  beforeAll(async () => {
    server = createServer();
    wss = new WebSocketServer({ server });
    wss.on('connection', (ws, request) => {
      // A small send buffer bound, so a client that stops reading trips it quickly.
      const channel = new WsChannel(ws, { ip: null, userAgent: null, url: new URL(request.url ?? '/', 'http://x') }, 256 * 1024, logger);
      channels.push(channel);
      waiting.shift()?.(channel);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function connect(): Promise<{ client: WebSocket; channel: WsChannel; texts: string[]; received(n: number): Promise<string[]> }> {
    const channel = new Promise<WsChannel>((resolve) => waiting.push(resolve));
    const client = new WebSocket(url);
    const texts: string[] = [];
    const listeners: (() => void)[] = [];
    client.on('message', (data, isBinary) => {
      texts.push(isBinary ? `<binary>` : String(data));
      for (const listener of listeners.splice(0)) listener();
    });
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    const received = async (n: number) => {
      const deadline = Date.now() + 5000;
      while (texts.length < n) {
        if (Date.now() > deadline) throw new Error(`received ${texts.length} of ${n} frames`);
        await new Promise<void>((resolve) => {
          listeners.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return texts;
    };
    return { client, channel: await channel, texts, received };
  }

  it('delivers text frames a ws client decodes exactly, for every length encoding, in order with ws frames of its own', async () => {
    const { client, channel, received } = await connect();
    const results = [10, 200, 70_000].map((size) => new DeliveredResult({ data: { postUpdated: { content: 'é'.repeat(size) } } }));
    // One turn: a head+shared frame, a whole frame through ws, a ping (ws's own), and the others.
    channel.sendParts('{"id":"a",', results[0]!.framed(NEXT));
    channel.send('{"type":"pong"}');
    (channel as unknown as { ws: WebSocket }).ws.ping();
    channel.sendParts('{"id":"ü-1",', results[1]!.framed(NEXT));
    channel.sendParts('{"id":"c",', results[2]!.framed(NEXT));
    const texts = await received(4);
    expect(texts[0]).toBe(`{"id":"a","type":"next","payload":${results[0]!.json}}`);
    expect(texts[1]).toBe('{"type":"pong"}');
    expect(JSON.parse(texts[2]!)).toEqual({ id: 'ü-1', type: 'next', payload: results[1]!.result });
    expect(JSON.parse(texts[3]!)).toEqual({ id: 'c', type: 'next', payload: results[2]!.result });
    client.close();
  });

  it('writes the same shared bytes to every socket under its own id, and leaves them unchanged', async () => {
    const a = await connect();
    const b = await connect();
    const result = new DeliveredResult({ data: { postUpdated: { eventId: 'e1', post: { id: 'p1', content: 'hello' } } } });
    const shared = result.framed(NEXT);
    const before = Buffer.from(shared);
    expect(result.framed(NEXT)).toBe(shared); // encoded once per result and prefix
    // Written around ws.send (straight to the TCP socket): a ws upgrade that changes its internals shows here.
    const wsOf = (channel: WsChannel) => (channel as unknown as { ws: WebSocket }).ws;
    let sends = 0;
    for (const channel of [a.channel, b.channel]) {
      const ws = wsOf(channel);
      const send = ws.send.bind(ws);
      ws.send = ((...args: Parameters<WebSocket['send']>) => {
        sends++;
        return send(...args);
      }) as WebSocket['send'];
    }
    a.channel.sendParts('{"id":"1",', shared);
    b.channel.sendParts('{"id":"7",', shared);
    expect((await a.received(1))[0]).toBe(`{"id":"1","type":"next","payload":${result.json}}`);
    expect((await b.received(1))[0]).toBe(`{"id":"7","type":"next","payload":${result.json}}`);
    expect(shared.equals(before)).toBe(true);
    expect(sends).toBe(0);
    a.client.close();
    b.client.close();
  });

  it('never hands one result the bytes framed for another (another viewer’s shape)', () => {
    const author = new DeliveredResult({ data: { post: { likedByMe: true, comments: ['pending one'] } } });
    const reader = new DeliveredResult({ data: { post: { likedByMe: false, comments: [] } } });
    const forAuthor = author.framed(NEXT).toString();
    const forReader = reader.framed(NEXT).toString();
    expect(forReader).toBe(`${NEXT}${JSON.stringify(reader.result)}}`);
    expect(forReader).not.toContain('pending one');
    // A second protocol's prefix on the same result does not leak into the first's bytes, nor across results.
    expect(author.framed('"type":"data","payload":').toString()).toBe(`"type":"data","payload":${author.json}}`);
    expect(author.framed(NEXT).toString()).toBe(forAuthor);
    expect(reader.framed(NEXT).toString()).toBe(forReader);
  });

  it('holds writes back (a promise) past 16 KB unsent, and closes a client that stops reading with 4413', async () => {
    const { client, channel } = await connect();
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = new DeliveredResult({ data: { content: 'x'.repeat(50_000) } }).framed(NEXT);
    let heldBack = 0;
    let maxBuffered = 0;
    const ws = (channel as unknown as { ws: WebSocket }).ws;
    for (let i = 0; i < 2000 && ws.readyState === ws.OPEN; i++) {
      if (channel.sendParts(`{"id":"${i}",`, big)) heldBack++;
      maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(ws.readyState).not.toBe(ws.OPEN);
    expect(heldBack).toBeGreaterThan(0);
    // Bounded: the limit plus the frame that crossed it.
    expect(maxBuffered).toBeLessThan(256 * 1024 + 2 * big.length);
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(4413);
  });
});
