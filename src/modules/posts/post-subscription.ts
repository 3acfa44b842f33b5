import type { PubSub } from '../../realtime/pubsub.js';
import type { EventStream, OverflowPolicy } from '../../realtime/event-stream.js';
import type { Topic, TopicEvent, TopicKey } from '../../realtime/topics.js';
import type { Viewer } from '../auth/viewer.js';
import type { PostService } from './post.service.js';

/** What a post-scoped subscription needs of its operation's context. */
export interface PostStreamContext {
  readonly viewer: Viewer | null;
  readonly services: { readonly posts: Pick<PostService, 'assertVisible'> };
  readonly pubsub: PubSub;
}

export interface PostStreamOptions<K extends TopicKey, S> {
  readonly overflow?: OverflowPolicy;
  /** Per event: may this viewer see it? Events that fail are never queued. */
  readonly filter?: (event: TopicEvent<K>, viewer: Viewer | null) => boolean;
  /**
   * The state the stream starts with (as the old system sent on subscribe), read after the stream
   * began listening so a change in between follows it; null for none.
   */
  readonly initial?: (postId: string) => Promise<S | null>;
  /** Durable topics: replay every event after this `eventId` first (the subscription's `after` argument). */
  readonly after?: string | null | undefined;
}

/**
 * The shape every post-scoped subscription shares: NOT_FOUND unless the viewer may see the post, then
 * the post's topic as a bounded stream (filtered per viewer, led by the current state when given).
 */
export async function subscribeToPost<K extends TopicKey, S = never>(
  ctx: PostStreamContext,
  postId: string,
  topicOf: (postId: string) => Topic<K>,
  options: PostStreamOptions<K, S> = {},
): Promise<EventStream<TopicEvent<K> | S>> {
  const { viewer } = ctx;
  await ctx.services.posts.assertVisible(postId, viewer);
  const filter = options.filter;
  const stream = await ctx.pubsub.subscribe(topicOf(postId), {
    overflow: options.overflow,
    filter: filter ? (event) => filter(event, viewer) : undefined,
    after: options.after,
  });
  // One stream carries the starting state and the events: both are what the subscription's resolve maps.
  const merged = stream as EventStream<TopicEvent<K> | S>;
  if (!options.initial) return merged;
  try {
    const initial = await options.initial(postId);
    if (initial !== null) merged.unshift(initial);
    return merged;
  } catch (error) {
    stream.end();
    throw error;
  }
}
