import { Redis } from 'ioredis';
import type { Topic, TopicKey } from '../../src/realtime/topics.js';

/**
 * Waits (bounded) until `count` Redis connections are SUBSCRIBEd to a topic's channel: across
 * processes, this is how a test knows a subscriber on another instance is live before it writes.
 */
export async function waitForChannelSubscribers<K extends TopicKey>(redisUrl: string, prefix: string, topic: Topic<K>, count = 1, timeoutMs = 10_000): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const channel = prefix + topic.channel;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const reply = (await redis.pubsub('NUMSUB', channel)) as [string, number];
      if (Number(reply[1]) >= count) return;
      if (Date.now() > deadline) throw new Error(`fewer than ${count} subscribers on ${channel} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    redis.disconnect();
  }
}
