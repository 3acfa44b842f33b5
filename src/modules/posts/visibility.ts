import type { Post } from '../../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';

/** The post's author or staff: who sees drafts and moderates comments. */
export function isAuthorOrStaff(postAuthorId: string, viewer: Viewer | null): boolean {
  return viewer !== null && (viewer.role === 'STAFF' || viewer.id === postAuthorId);
}

/** Published posts are public; drafts and archived posts only to their author and staff. */
export function canSeePost(post: Pick<Post, 'status' | 'authorId'>, viewer: Viewer | null): boolean {
  return post.status === 'PUBLISHED' || isAuthorOrStaff(post.authorId, viewer);
}
