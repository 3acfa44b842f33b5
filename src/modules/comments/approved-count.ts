import type { PrismaClient } from '../../data/db.js';

/**
 * Moves Post.commentCount (approved comments) by `delta` in one statement. Callers only call it after
 * a conditional status change succeeded, so concurrent moderators can never count a comment twice.
 * Raw SQL on purpose: a Prisma `post.update` would publish a misleading postUpdated event.
 */
export async function adjustApprovedCount(db: PrismaClient, postId: string, delta: 1 | -1): Promise<void> {
  await db.$executeRaw`UPDATE "Post" SET "commentCount" = "commentCount" + ${delta}::int WHERE id = ${postId}`;
}
