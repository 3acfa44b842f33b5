import type { Post } from '../generated/prisma/client.js';
import type { SqlQuery } from './sql-query.js';

/** A post's editable text; at least one of the two is set (the service checks). */
export interface PostTextChange {
  readonly title?: string;
  readonly content?: string;
}

// Timestamps cross as UTC text both ways: the columns are `timestamp(3)` without a zone holding UTC (as Prisma
// writes them), and neither `pg` nor PGlite may apply the process's or the session's time zone to them.
const utc = (column: string) => `to_char("${column}", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "${column}"`;
const RETURNED = `"id", "authorId", "title", "content", "status", "viewCount", "likeCount", "commentCount", ${utc('publishedAt')}, ${utc('createdAt')}, ${utc('updatedAt')}`;

/**
 * `UPDATE "Post"` of title and/or content in one statement through `pg`, returning the whole row as Prisma
 * would (`updatedAt` set here, as Prisma's `@updatedAt` does). Prisma's `post.update` costs about three times
 * the CPU of this statement, and `updatePost` is the hottest write (every `postUpdated` event is one). Null
 * when no such post exists.
 */
export async function updatePostText(query: SqlQuery, id: string, change: PostTextChange, now = new Date()): Promise<Post | null> {
  const sets: string[] = [];
  const values: unknown[] = [id, now.toISOString()];
  if (change.title !== undefined) sets.push(`"title" = $${values.push(change.title)}`);
  if (change.content !== undefined) sets.push(`"content" = $${values.push(change.content)}`);
  if (sets.length === 0) throw new Error('updatePostText needs a title or content');
  const rows = await query(`UPDATE "Post" SET ${sets.join(', ')}, "updatedAt" = $2::timestamp(3) WHERE "id" = $1 RETURNING ${RETURNED}`, values);
  const row = rows[0];
  return row ? toPost(row) : null;
}

function toPost(row: Record<string, unknown>): Post {
  return {
    id: row.id as string,
    authorId: row.authorId as string,
    title: row.title as string,
    content: row.content as string,
    status: row.status as Post['status'],
    viewCount: Number(row.viewCount),
    likeCount: Number(row.likeCount),
    commentCount: Number(row.commentCount),
    publishedAt: row.publishedAt === null ? null : new Date(row.publishedAt as string),
    createdAt: new Date(row.createdAt as string),
    updatedAt: new Date(row.updatedAt as string),
  };
}
