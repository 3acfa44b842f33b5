import type { PrismaClient } from '../../data/db.js';
import { EventScopedLoader } from '../../shared/event-scoped-loader.js';
import { Prisma, type Comment } from '../../generated/prisma/client.js';
import type { CommentStatus } from '../../generated/prisma/enums.js';
import { badInput, forbidden, notFound } from '../../shared/errors.js';
import type { Viewer } from '../auth/viewer.js';
import type { CommentNotifier } from '../notifications/comment-notifier.js';
import { isUuid, type PostService } from '../posts/post.service.js';
import { adjustApprovedCount } from './approved-count.js';
import { moderates } from './comment-visibility.js';

export const COMMENT_MAX_CHARS = 5000;
const PAGE_MAX = 100;
/** Conditional status changes retried this often when a concurrent moderator got there first. */
const TRANSITION_ATTEMPTS = 5;

/**
 * Comments and their moderation. Writes go through Prisma (`comment.create` / `comment.update`), so the
 * publish-comment-events extension announces them after they commit; this service keeps the post's
 * approved-comment count exact and tells the notifications module.
 */
export class CommentService {
  private readonly eventLoads = new EventScopedLoader<Comment | null>((id) => this.db.comment.findUnique({ where: { id } }));

  constructor(
    private readonly db: PrismaClient,
    private readonly posts: PostService,
    private readonly notifier: CommentNotifier | null,
    private readonly onError: (error: unknown, what: string) => void,
  ) {}

  /** Pending unless the post's author or staff writes it. Content is stored as given (trimmed), never escaped. */
  async add(viewer: Viewer, postId: string, rawContent: string): Promise<Comment> {
    const post = await this.posts.requireVisible(postId, viewer);
    const content = validContent(rawContent);
    const status: CommentStatus = moderates(post.authorId, viewer) ? 'APPROVED' : 'PENDING';
    const comment = await this.db.comment.create({ data: { postId, authorId: viewer.id, content, status } });
    if (status === 'APPROVED') await this.approvedCountChanged(postId, 1);
    if (this.notifier) {
      const commenter = await this.db.user.findUnique({ where: { id: viewer.id }, select: { displayName: true } });
      await this.notifier
        .commentAdded({
          commentId: comment.id,
          postId,
          postTitle: post.title,
          postAuthorId: post.authorId,
          commenterId: viewer.id,
          commenterName: commenter?.displayName ?? 'Someone',
        })
        .catch((error: unknown) => this.onError(error, 'commentAdded notification'));
    }
    return comment;
  }

  /** Idempotent: approving an approved comment changes nothing and announces nothing. */
  async approve(viewer: Viewer, id: string): Promise<Comment> {
    const { comment, changed } = await this.transition(viewer, id, 'APPROVED');
    if (changed && this.notifier) {
      const post = await this.db.post.findUnique({ where: { id: comment.postId }, select: { title: true } });
      await this.notifier
        .commentApproved({ commentId: comment.id, postId: comment.postId, postTitle: post?.title ?? '', commenterId: comment.authorId, moderatorId: viewer.id })
        .catch((error: unknown) => this.onError(error, 'commentApproved notification'));
    }
    return comment;
  }

  /** Idempotent. Rejecting an approved comment takes it out of the post's count. */
  async reject(viewer: Viewer, id: string): Promise<Comment> {
    return (await this.transition(viewer, id, 'REJECTED')).comment;
  }

  /** The comment, or NOT_FOUND. */
  async require(id: string): Promise<Comment> {
    const comment = isUuid(id) ? await this.db.comment.findUnique({ where: { id } }) : null;
    if (!comment) throw notFound('Comment');
    return comment;
  }

  /**
   * Oldest first: approved comments, plus pending ones for the post's author and staff (all) and for
   * their commenter (own). NOT_FOUND when the post is missing or hidden from the viewer.
   */
  async list(viewer: Viewer | null, postId: string, options: { first: number; after?: string | null }): Promise<Comment[]> {
    const post = await this.posts.requireVisible(postId, viewer);
    if (!Number.isInteger(options.first) || options.first < 1 || options.first > PAGE_MAX) {
      throw badInput(`first must be between 1 and ${PAGE_MAX}`, 'first');
    }
    if (options.after && !isUuid(options.after)) throw badInput('after is not a cursor from this list', 'after');
    const visible: Prisma.CommentWhereInput[] = moderates(post.authorId, viewer)
      ? [{ status: { in: ['APPROVED', 'PENDING'] } }]
      : [{ status: 'APPROVED' }, ...(viewer ? [{ status: 'PENDING' as const, authorId: viewer.id }] : [])];
    return this.db.comment.findMany({
      where: { postId, OR: visible },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: options.first + 1,
      ...(options.after ? { cursor: { id: options.after }, skip: 1 } : {}),
    });
  }

  /** The comment for one event, loaded once and shared by every subscriber of that event. */
  loadForEvent(commentId: string, eventId: string): Comment | null | Promise<Comment | null> {
    return this.eventLoads.get(`${commentId}:${eventId}`, commentId);
  }

  /**
   * Moves a comment to `target` with a conditional update (only from the status just read), so of two
   * concurrent moderators exactly one changes it and the approved count moves exactly once.
   */
  private async transition(viewer: Viewer, id: string, target: 'APPROVED' | 'REJECTED'): Promise<{ comment: Comment; changed: boolean }> {
    for (let attempt = 0; attempt < TRANSITION_ATTEMPTS; attempt++) {
      const current = await this.require(id);
      const postAuthorId = await this.posts.authorIdOf(current.postId);
      if (postAuthorId === null || !moderates(postAuthorId, viewer)) throw forbidden('Only the post’s author or staff can moderate its comments');
      if (current.status === target) return { comment: current, changed: false };
      let updated: Comment;
      try {
        updated = await this.db.comment.update({
          where: { id, status: current.status },
          data: { status: target, moderatedAt: new Date(), moderatedById: viewer.id },
        });
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') continue;
        throw error;
      }
      const delta = target === 'APPROVED' ? 1 : current.status === 'APPROVED' ? -1 : 0;
      if (delta !== 0) await this.approvedCountChanged(current.postId, delta);
      return { comment: updated, changed: true };
    }
    throw new Error(`Comment ${id} kept changing under moderation`);
  }

  private async approvedCountChanged(postId: string, delta: 1 | -1): Promise<void> {
    await adjustApprovedCount(this.db, postId, delta);
    this.posts.statsChanged(postId);
  }
}

function validContent(raw: string): string {
  const content = raw.trim();
  if (content.length === 0) throw badInput('content must not be empty', 'content');
  // Counted in characters (code points), not UTF-16 units, so an emoji counts once.
  if ([...content].length > COMMENT_MAX_CHARS) throw badInput(`content must be at most ${COMMENT_MAX_CHARS} characters`, 'content');
  // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
  if (content.includes('\u0000')) throw badInput('content must not contain NUL characters', 'content');
  return content;
}
