import type { CommentStatus } from '../../generated/prisma/enums.js';
import type { Viewer } from '../auth/viewer.js';
import { isAuthorOrStaff } from '../posts/visibility.js';

/** The people who see a post's comments before moderation: its author and staff. */
export const moderates = isAuthorOrStaff;

/**
 * Approved comments are for everyone who may see the post; pending ones only for the post's author,
 * staff and the commenter; rejected ones for nobody but moderators.
 */
export function canSeeComment(
  comment: { readonly status: CommentStatus; readonly authorId: string },
  postAuthorId: string,
  viewer: Viewer | null,
): boolean {
  switch (comment.status) {
    case 'APPROVED':
      return true;
    case 'PENDING':
      return moderates(postAuthorId, viewer) || viewer?.id === comment.authorId;
    case 'REJECTED':
      return moderates(postAuthorId, viewer);
  }
}
