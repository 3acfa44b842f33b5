import type { PrismaClient } from './db.js';

const MAX_ENTRIES = 100_000;

/**
 * Who wrote each post, cached (a post's author never changes). Comment events need it to decide
 * visibility per subscriber without a query each; `postAuthor` scope checks need it on every write.
 */
export class PostAuthors {
  private readonly cache = new Map<string, string>();

  /** Reads through `db`; any client works (reads publish nothing). */
  constructor(private readonly db: Pick<PrismaClient, 'post'>) {}

  /** The author's id, or null when the post does not exist. */
  async of(postId: string): Promise<string | null> {
    const cached = this.cache.get(postId);
    if (cached) return cached;
    const post = await this.db.post.findUnique({ where: { id: postId }, select: { authorId: true } });
    if (!post) return null;
    this.remember(postId, post.authorId);
    return post.authorId;
  }

  remember(postId: string, authorId: string): void {
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(postId, authorId);
  }
}
