/**
 * Apollo Server 5 (HTTP, through its own executeHTTPGraphQLRequest) + graphql-ws on `ws`, with
 * graphql-subscriptions' PubSub: the setup Apollo's documentation recommends for subscriptions.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { PubSub } from 'graphql-subscriptions';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { announceReady, COMMENT_SDL, commentEvent, portFromEnv, readJson, topicOf, type PublishRequest } from './common.js';

const pubsub = new PubSub();
const schema = makeExecutableSchema({
  typeDefs: COMMENT_SDL,
  resolvers: {
    Query: { ok: () => true },
    Mutation: {
      publishComments: async (_root: unknown, { events }: PublishRequest) => {
        for (const { postId, content } of events) await pubsub.publish(topicOf(postId), { commentAdded: commentEvent(postId, content) });
        return events.length;
      },
    },
    Subscription: {
      commentAdded: { subscribe: (_root: unknown, { postId }: { postId: string }) => pubsub.asyncIterableIterator(topicOf(postId)) },
    },
  },
});

const apollo = new ApolloServer({ schema });
await apollo.start();

const server = createServer((req, res) => {
  void (async () => {
    try {
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: new URL(req.url ?? '/', 'http://localhost').search, body },
        context: async () => ({}),
      });
      res.statusCode = result.status ?? 200;
      for (const [key, value] of result.headers) res.setHeader(key, value);
      if (result.body.kind === 'complete') res.end(result.body.string);
      else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  })();
});

const wss = new WebSocketServer({ server, path: '/graphql' });
useServer({ schema }, wss);

server.listen(portFromEnv(), '127.0.0.1', () => {
  announceReady({ port: (server.address() as AddressInfo).port, ws: '/graphql', protocol: 'graphql-ws' });
});
