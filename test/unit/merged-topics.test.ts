import { describe, expect, it } from 'vitest';
import { PubSub } from '../../src/realtime/pubsub.js';
import { createMemoryEngine } from '../../src/realtime/memory-engine.js';
import { topics } from '../../src/realtime/topics.js';

const pubsub = () => new PubSub(createMemoryEngine(), { capacity: 3, expiryMs: 60_000 }, 'test:');

/** The notifications subscription's stream: the viewer's own topic and the broadcast one, in one bounded stream. */
function notifications(bus: PubSub, viewerId: string) {
  return bus.subscribeMany<'notificationCreated' | 'broadcastNotificationCreated'>([
    { topic: topics.notificationCreated(viewerId), filter: (event) => 'recipientId' in event && event.recipientId === viewerId },
    { topic: topics.broadcastNotificationCreated(), filter: (event) => 'actorId' in event && event.actorId !== viewerId },
  ]);
}

describe('one stream over several topics', () => {
  it('delivers the events of every topic in arrival order, each through its own filter', async () => {
    const bus = pubsub();
    const stream = await notifications(bus, 'alice');
    await bus.publish(topics.notificationCreated('alice'), { notificationId: 'n1', recipientId: 'alice', type: 'POST_LIKED' });
    await bus.publish(topics.broadcastNotificationCreated(), { notificationId: 'b1', type: 'SYSTEM_ALERT', actorId: 'alice' });
    await bus.publish(topics.broadcastNotificationCreated(), { notificationId: 'b2', type: 'SYSTEM_ALERT', actorId: null });
    await bus.publish(topics.notificationCreated('alice'), { notificationId: 'n2', recipientId: 'alice', type: 'COMMENT_ADDED' });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await stream.next()).value?.notificationId);
    // b1 was alice's own broadcast: its filter kept it out.
    expect(seen).toEqual(['n1', 'b2', 'n2']);
    expect(bus.openStreams('notificationCreated')).toBe(1);
    expect(bus.openStreams('broadcastNotificationCreated')).toBe(1);
  });

  it('counts each delivery under the topic its event came on', async () => {
    const delivered: string[] = [];
    const bus = new PubSub(createMemoryEngine(), { capacity: 3, expiryMs: 60_000 }, 'test:', { delivered: (key) => delivered.push(key) });
    const stream = await notifications(bus, 'dora');
    await bus.publish(topics.broadcastNotificationCreated(), { notificationId: 'b1', type: 'SYSTEM_ALERT', actorId: null });
    await bus.publish(topics.notificationCreated('dora'), { notificationId: 'n1', recipientId: 'dora', type: 'POST_LIKED' });
    await stream.next();
    await stream.next();
    expect(delivered).toEqual(['broadcastNotificationCreated', 'notificationCreated']);
  });

  it('stops listening on every topic when the consumer stops, and shares one bound', async () => {
    const bus = pubsub();
    const stream = await notifications(bus, 'bob');
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toMatchObject({ done: true });
    expect(bus.openStreams('notificationCreated')).toBe(0);
    expect(bus.openStreams('broadcastNotificationCreated')).toBe(0);

    const slow = await notifications(bus, 'carol');
    for (let i = 0; i < 4; i++) await bus.publish(topics.broadcastNotificationCreated(), { notificationId: `b${i}`, type: 'SYSTEM_ALERT', actorId: null });
    // Capacity 3 with the 'fail' policy: the fourth event fails the whole stream (a gap would mislead).
    await expect(async () => {
      for (;;) await slow.next();
    }).rejects.toThrow(/fell too far behind/);
    expect(bus.openStreams('broadcastNotificationCreated')).toBe(0);
  });
});
