import type { PostStatus } from '../../generated/prisma/enums.js';

/** What decides who may see a post. */
export interface PostVisibility {
  readonly status: PostStatus;
  readonly authorId: string;
}

interface Entry {
  readonly value: PostVisibility;
  readonly expiresAt: number;
}

/**
 * Post visibility (status and author) for subscription starts: clients re-subscribing to a post
 * would otherwise cost a database query each. An entry is dropped when any instance changes the
 * post's status (the `postVisibilityChanged` topic, see publish-post-events.ts) and expires after
 * `ttlMs` regardless, which bounds staleness if that message is missed (Redis briefly down); it is
 * long because every expiry costs a read per watched post (1,000 watched posts and a 10 s expiry were
 * 100 queries a second). Only existing posts are cached, so a post created after a miss is found at once.
 */
export class PostVisibilityCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every invalidation: a load that overlapped one does not store its (maybe older) answer. */
  private generation = 0;

  constructor(
    private readonly load: (postId: string) => Promise<PostVisibility | null>,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 50_000,
  ) {}

  async get(postId: string): Promise<PostVisibility | null> {
    const hit = this.entries.get(postId);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    const generation = this.generation;
    const value = await this.load(postId);
    if (value && generation === this.generation) {
      this.entries.delete(postId);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(postId, { value: { status: value.status, authorId: value.authorId }, expiresAt: Date.now() + this.ttlMs });
    }
    return value;
  }

  invalidate(postId: string): void {
    this.generation += 1;
    this.entries.delete(postId);
  }
}
