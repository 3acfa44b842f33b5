import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { legacyEndpoints, legacyRoute } from '../../src/transport/legacy-endpoints/routes.js';
import { DocumentPayloads } from '../../src/transport/legacy-endpoints/documents.js';
import { notificationTypeOf, snakeKeys } from '../../src/transport/legacy-endpoints/messages.js';
import type { OperationPayload, OperationSink, Operations } from '../../src/transport/ws/operation-runner.js';
import { DeliveredResult } from '../../src/graphql/delivery/delivered-result.js';
import type { Connection } from '../../src/modules/connections/connection.js';
import { TokenError } from '../../src/modules/auth/tokens.js';
import { LegacyMeDocument, LegacyNotificationsDocument } from '../../src/generated/graphql/graphql.js';
import { documentIdOf } from '../../src/shared/document-id.js';
import { FakeChannel, memoryRegistry, settle, silentLogger, viewer } from '../helpers/fake-sockets.js';

/** Records what the adapter asked of the runner; a test answers through the sinks. */
class FakeOperations implements Operations {
  readonly started: { connection: Connection; id: string; payload: OperationPayload; sink: OperationSink }[] = [];
  readonly stopped: string[] = [];

  start(connection: Connection, id: string, payload: OperationPayload, sink: OperationSink): 'duplicate' | undefined {
    this.started.push({ connection, id, payload, sink });
    return undefined;
  }

  stop(_connection: Connection, id: string): void {
    this.stopped.push(id);
  }

  /** The last operation started with this document. */
  of(document: object) {
    const id = documentIdOf(document);
    return [...this.started].reverse().find((s) => s.payload.documentId === id);
  }
}

function open(path: string, options: { authenticate?: (token: string) => Promise<ReturnType<typeof viewer>> } = {}) {
  const { registry } = memoryRegistry();
  const runner = new FakeOperations();
  const routes = legacyEndpoints({ runner, connections: registry, authenticate: options.authenticate ?? (async (token) => viewer(token)), heartbeatIntervalMs: 0, documentIds: true, logger: silentLogger });
  const channel = new FakeChannel(`http://herald.test${path}`);
  const adapter = routes(channel.upgrade.url);
  if (!adapter) throw new Error(`no endpoint for ${path}`);
  return { channel, session: adapter(channel), runner, registry };
}

const answer = (sink: OperationSink | undefined, data: unknown) => {
  sink?.next(new DeliveredResult({ data: data as Record<string, unknown> }));
  sink?.complete();
};

describe('the old endpoints (fake sockets)', () => {
  it("routes the old system's paths, with or without the trailing slash, and nothing else", () => {
    expect(legacyRoute('/ws/notifications/')?.endpoint.name).toBe('NotificationConsumer');
    expect(legacyRoute('/ws/notifications')?.endpoint.name).toBe('NotificationConsumer');
    expect(legacyRoute('/ws/blog/posts/abc-123/')).toMatchObject({ postId: 'abc-123', endpoint: { name: 'PostConsumer' } });
    expect(legacyRoute('/ws/blog/comments/42/')).toMatchObject({ postId: '42', endpoint: { name: 'CommentConsumer' } });
    expect(legacyRoute('/ws/analytics/dashboard/')?.endpoint.name).toBe('AnalyticsDashboardConsumer');
    expect(legacyRoute('/ws/health/')?.endpoint.name).toBe('HealthCheckConsumer');
    for (const path of ['/ws/', '/ws/blog/posts//', '/ws/blog/posts/a/b/', '/ws/blog/posts/%2e%2e/', '/graphql', '/ws/health/x']) expect(legacyRoute(path), path).toBeNull();
  });

  it('maps old notification type names and snake-cases data keys', () => {
    expect(notificationTypeOf('blog_post_published')).toBe('BLOG_POST_PUBLISHED');
    expect(notificationTypeOf('SYSTEM_ALERT')).toBe('SYSTEM_ALERT');
    expect(notificationTypeOf('user_mentioned')).toBeNull();
    expect(notificationTypeOf(7)).toBeNull();
    expect(snakeKeys({ postId: '1', commentId: '2' })).toEqual({ post_id: '1', comment_id: '2' });
  });

  it('names operations by trusted-document id, or by their text when ids are off', () => {
    expect(new DocumentPayloads(true).payload(LegacyMeDocument, {})).toEqual({ documentId: documentIdOf(LegacyMeDocument), variables: {} });
    expect(new DocumentPayloads(false).payload(LegacyMeDocument, {})).toEqual({ query: print(LegacyMeDocument), variables: {} });
  });

  it('answers messages sent before admission after the connect messages, in order', async () => {
    const s = open('/ws/notifications/?token=ada');
    s.session.received(JSON.stringify({ type: 'ping' }));
    s.session.received(JSON.stringify({ type: 'subscribe', notification_types: ['post_liked'] }));
    await settle();
    expect(s.channel.sent).toEqual([]);
    answer(s.runner.of(LegacyMeDocument)?.sink, { me: { id: 'ada', username: 'ada' } });
    await settle();
    expect(s.channel.sent.map((f) => f.type)).toEqual(['welcome', 'pong', 'subscribed']);
    // Every type from connect, then narrowed by the subscribe (the first subscription stopped).
    const notifications = s.runner.started.filter((o) => o.payload.documentId === documentIdOf(LegacyNotificationsDocument));
    expect(notifications.map((o) => o.payload.variables)).toEqual([{ types: null, after: null }, { types: ['POST_LIKED'], after: null }]);
    expect(s.runner.stopped).toEqual([notifications[0]?.id]);

    // The same types again: answered, and the running subscription kept.
    s.session.received(JSON.stringify({ type: 'subscribe', notification_types: ['POST_LIKED'] }));
    expect(s.channel.of('subscribed')).toHaveLength(2);
    expect(s.runner.stopped).toHaveLength(1);
    s.session.received(JSON.stringify({ type: 'unsubscribe', notification_types: ['post_liked'] }));
    expect(s.channel.of('unsubscribed')).toEqual([expect.objectContaining({ data: { notification_types: ['post_liked'] } })]);
    expect(s.runner.stopped).toEqual([notifications[0]?.id, notifications[1]?.id]);
    expect(s.runner.started.filter((o) => o.payload.documentId === documentIdOf(LegacyNotificationsDocument))).toHaveLength(2);
  });

  it('closes with 4403 for a bad token before sending anything, and finalises a socket that closed while admitted', async () => {
    const bad = open('/ws/notifications/?token=forged', {
      authenticate: async () => {
        throw new TokenError('INVALID', 'Invalid access token');
      },
    });
    await settle();
    expect(bad.channel.closedWith).toEqual({ code: 4403, reason: 'Invalid access token' });
    expect(bad.channel.sent).toEqual([]);
    expect(bad.registry.size).toBe(0);

    const gone = open('/ws/notifications/?token=bob');
    gone.session.closed(1006, '');
    await settle();
    expect(gone.registry.size).toBe(0);
    expect(gone.runner.started).toEqual([]);
  });

  it('reads no token on the health endpoint', async () => {
    let asked = false;
    const s = open('/ws/health/?token=whatever', {
      authenticate: async (token) => {
        asked = true;
        return viewer(token);
      },
    });
    await settle();
    expect(asked).toBe(false);
    expect(s.runner.started[0]?.connection.viewer).toBeNull();
  });
});
