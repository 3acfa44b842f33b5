import type { HeraldDb } from '../../data/db.js';
import type { EventScopedLoader } from '../../shared/event-scoped-loader.js';
import { requireText } from '../../shared/text-input.js';
import { rowsById } from '../../shared/rows-by-id.js';
import type { PostAuthors } from '../../data/post-authors.js';
import type { Post } from '../../generated/prisma/client.js';
import { badInput, notFound } from '../../shared/errors.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import { Coalescer } from '../../shared/coalescer.js';
import type { Viewer } from '../auth/viewer.js';
import { canSeePost } from './visibility.js';
import { PostStatsStore, type PostCounts } from './post-stats.store.js';
import { PostVisibilityCache } from './post-visibility.js';

export interface PostInput {
  readonly title?: string | null;
  readonly content?: string | null;
}

/** What other modules are told about posts (notifications implement it). */
export interface PostEventsSink {
  postPublished(post: Post): Promise<void>;
  postLiked(post: Post, likerId: string): Promise<void>;
}

const TITLE_MAX = 200;
const CONTENT_MAX = 100_000;
/** Stats changes per post are published at most this often (the rest coalesce). */
export const STATS_PUBLISH_INTERVAL_MS = 200;

export interface PostServiceDeps {
  readonly db: HeraldDb;
  readonly pubsub: PubSub;
  /** Told when a post is published or liked (notifications). */
  readonly sink: PostEventsSink | null;
  /** Post authors, cached (shared with the comment events extension). */
  readonly authors: PostAuthors;
  /**
   * The row of a post as of one of its events, loaded once for every subscriber of that event (keyed
   * `<postId>:<eventId>`); the publishing extension primes it with the row it just wrote.
   */
  readonly eventRows: EventScopedLoader<Post | null>;
  readonly onError: (error: unknown, what: string) => void;
}

export class PostService {
  private readonly db: HeraldDb;
  private readonly pubsub: PubSub;
  private readonly sink: PostEventsSink | null;
  private readonly onError: (error: unknown, what: string) => void;
  /** Lookups of one tick share a query (a comment list or a fan-out resolving `Comment.post`). */
  private readonly byId = rowsById<Post>((ids) => this.db.post.findMany({ where: { id: { in: ids } } }));
  private readonly stats: PostStatsStore;
  private readonly statsCoalescer: Coalescer<string>;
  private readonly visibility = new PostVisibilityCache((id) => this.byId.load(id));
  private visibilityListener: Promise<() => void> | null = null;

  constructor(private readonly deps: PostServiceDeps) {
    this.db = deps.db;
    this.pubsub = deps.pubsub;
    this.sink = deps.sink;
    this.onError = deps.onError;
    this.stats = new PostStatsStore(deps.db);
    this.statsCoalescer = new Coalescer(STATS_PUBLISH_INTERVAL_MS, (postId) => void this.publishStats(postId));
  }

  /** Starts dropping cached visibility when any instance changes a post's status. */
  start(): void {
    if (this.visibilityListener) return;
    // Not awaited: with Redis down at start-up the SUBSCRIBE waits for it; entries expire meanwhile.
    this.visibilityListener = this.pubsub.listen(topics.postVisibilityChanged(), (event) => this.visibility.invalidate(event.postId));
    this.visibilityListener.catch((error: unknown) => this.onError(error, 'postVisibilityChanged listener'));
  }

  async create(viewer: Viewer, input: PostInput): Promise<Post> {
    const title = requireText(input.title, 'title', TITLE_MAX);
    const content = requireText(input.content, 'content', CONTENT_MAX);
    const post = await this.db.post.create({ data: { authorId: viewer.id, title, content } });
    this.deps.authors.remember(post.id, post.authorId);
    return post;
  }

  async update(id: string, input: PostInput): Promise<Post> {
    if (!isUuid(id)) throw notFound('Post');
    const change: { title?: string; content?: string } = {};
    if (input.title !== undefined && input.title !== null) change.title = requireText(input.title, 'title', TITLE_MAX);
    if (input.content !== undefined && input.content !== null) change.content = requireText(input.content, 'content', CONTENT_MAX);
    if (change.title === undefined && change.content === undefined) throw badInput('Nothing to update: give a title or content');
    // One statement: a missing post is no row, not a read before the write.
    const post = await this.db.post.updateText(id, change);
    if (!post) throw notFound('Post');
    return post;
  }

  /** Publishing twice is a no-op: readers are notified once. */
  async publish(id: string): Promise<Post> {
    const existing = await this.require(id);
    if (existing.status === 'PUBLISHED') return existing;
    const post = await this.db.post.update({ where: { id }, data: { status: 'PUBLISHED', publishedAt: new Date() } });
    if (this.sink) await this.sink.postPublished(post).catch((e: unknown) => this.onError(e, 'postPublished notification'));
    return post;
  }

  /** The post if it exists and the viewer may see it, else null. */
  async find(id: string, viewer: Viewer | null): Promise<Post | null> {
    if (!isUuid(id)) return null;
    const post = await this.byId.load(id);
    return post && canSeePost(post, viewer) ? post : null;
  }

  /**
   * NOT_FOUND unless the viewer may see the post. For subscription starts: answered from the
   * visibility cache (clients re-subscribe often), where mutations use `requireVisible` on the row.
   */
  async assertVisible(id: string, viewer: Viewer | null): Promise<void> {
    const post = isUuid(id) ? await this.visibility.get(id) : null;
    if (!post || !canSeePost(post, viewer)) throw notFound('Post');
  }

  /** Like `find`, but NOT_FOUND instead of null (used by mutations). */
  async requireVisible(id: string, viewer: Viewer | null): Promise<Post> {
    const post = await this.find(id, viewer);
    if (!post) throw notFound('Post');
    return post;
  }

  async list(viewer: Viewer | null, options: { first: number; after?: string | null; authorId?: string | null }): Promise<Post[]> {
    const first = Math.min(Math.max(options.first, 1), 100);
    const own = viewer && options.authorId === viewer.id;
    const staff = viewer?.role === 'STAFF';
    return this.db.post.findMany({
      where: {
        ...(options.authorId ? { authorId: options.authorId } : {}),
        ...(own || staff ? {} : { status: 'PUBLISHED' }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: first + 1,
      ...(options.after ? { cursor: { id: options.after }, skip: 1 } : {}),
    });
  }

  /**
   * The post for one event: every subscriber of that event shares one load (a fan-out to 5,000
   * subscribers costs one query, not 5,000). A plain value once the row is known: see EventScopedLoader.
   */
  loadForEvent(postId: string, version: number): Post | null | Promise<Post | null> {
    return this.deps.eventRows.get(`${postId}:${version}`, postId);
  }

  /** Author id of a post (cached: it never changes), or null when the post does not exist. */
  async authorIdOf(postId: string): Promise<string | null> {
    return isUuid(postId) ? this.deps.authors.of(postId) : null;
  }

  async statsOf(postId: string): Promise<PostCounts> {
    const counts = await this.stats.read(postId);
    if (!counts) throw notFound('Post');
    return counts;
  }

  /** Counts a view once per viewer per window; returns the current counts either way. */
  async trackView(postId: string, viewerKey: string, viewer: Viewer | null): Promise<PostCounts> {
    await this.requireVisible(postId, viewer);
    const { counted, counts } = await this.stats.trackView(postId, viewerKey);
    if (counted) this.statsChanged(postId);
    return counts;
  }

  async like(postId: string, viewer: Viewer): Promise<PostCounts> {
    const post = await this.requireVisible(postId, viewer);
    const { changed, counts } = await this.stats.like(postId, viewer.id);
    if (changed) {
      this.statsChanged(postId);
      if (this.sink) await this.sink.postLiked(post, viewer.id).catch((e: unknown) => this.onError(e, 'postLiked notification'));
    }
    return counts;
  }

  async unlike(postId: string, viewer: Viewer): Promise<PostCounts> {
    await this.requireVisible(postId, viewer);
    const { changed, counts } = await this.stats.unlike(postId, viewer.id);
    if (changed) this.statsChanged(postId);
    return counts;
  }

  async likedBy(postId: string, userId: string): Promise<boolean> {
    return (await this.db.postLike.count({ where: { postId, userId } })) > 0;
  }

  /** Call after any counter of the post changed; subscribers get the latest counts, coalesced. */
  statsChanged(postId: string): void {
    this.statsCoalescer.touch(postId);
  }

  stop(): void {
    this.statsCoalescer.clear();
    void this.visibilityListener?.then((unsubscribe) => unsubscribe(), () => undefined);
    this.visibilityListener = null;
  }

  private async publishStats(postId: string): Promise<void> {
    try {
      // Read at flush time, not at touch time: whichever instance flushes last publishes the final counts.
      const counts = await this.stats.read(postId);
      if (counts) await this.pubsub.publish(topics.postStatsChanged(postId), counts);
      // The staff dashboard ranks posts by views; this signal is already coalesced per post.
      if (counts) await this.pubsub.publish(topics.analyticsChanged(), { reason: 'POST_VIEW' });
    } catch (error) {
      this.onError(error, 'postStatsChanged publish');
    }
  }

  private async require(id: string): Promise<Post> {
    const post = isUuid(id) ? await this.db.post.findUnique({ where: { id } }) : null;
    if (!post) throw notFound('Post');
    return post;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are UUIDs; anything else cannot exist, and is answered without a query. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
