/** Mercurius 16 on Fastify 5 with its built-in subscriptions (in-memory emitter), graphql-transport-ws. */
import Fastify from 'fastify';
import mercurius from 'mercurius';
import type { AddressInfo } from 'node:net';
import { announceReady, COMMENT_SDL, commentEvent, portFromEnv, topicOf, type PublishRequest } from './common.js';

interface MercuriusPubSub {
  publish(event: { topic: string; payload: unknown }): Promise<void>;
  subscribe(topic: string): Promise<AsyncIterable<unknown>>;
}

const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
await app.register(mercurius, {
  schema: COMMENT_SDL,
  subscription: true,
  resolvers: {
    Query: { ok: () => true },
    Mutation: {
      publishComments: async (_root: unknown, { events }: PublishRequest, { pubsub }: { pubsub: MercuriusPubSub }) => {
        for (const { postId, content } of events) await pubsub.publish({ topic: topicOf(postId), payload: { commentAdded: commentEvent(postId, content) } });
        return events.length;
      },
    },
    Subscription: {
      commentAdded: {
        subscribe: (_root: unknown, { postId }: { postId: string }, { pubsub }: { pubsub: MercuriusPubSub }) => pubsub.subscribe(topicOf(postId)),
      },
    },
  } as never,
});
await app.listen({ port: portFromEnv(), host: '127.0.0.1' });
announceReady({ port: (app.server.address() as AddressInfo).port, ws: '/graphql', protocol: 'graphql-ws' });
