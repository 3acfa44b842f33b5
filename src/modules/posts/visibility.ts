import type { Post } from '../../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';

/** Published posts are public; drafts and archived posts only to their author and staff. */
export function canSeePost(post: Pick<Post, 'status' | 'authorId'>, viewer: Viewer | null): boolean {
  if (post.status === 'PUBLISHED') return true;
  return viewer !== null && (viewer.role === 'STAFF' || viewer.id === post.authorId);
}
