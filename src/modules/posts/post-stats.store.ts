import type { PrismaClient } from '../../data/db.js';

export interface PostCounts {
  readonly postId: string;
  readonly viewCount: number;
  readonly likeCount: number;
  readonly commentCount: number;
}

/** The same viewer counts once per this window. */
export const VIEW_WINDOW_MINUTES = 30;

interface CountsRow {
  viewCount: number;
  likeCount: number;
  commentCount: number;
}

/**
 * Counter writes as single SQL statements: the insert/delete and the counter change happen in one
 * statement, so concurrent requests can neither double count nor lose a count.
 */
export class PostStatsStore {
  constructor(private readonly db: PrismaClient) {}

  async read(postId: string): Promise<PostCounts | null> {
    const row = await this.db.post.findUnique({
      where: { id: postId },
      select: { viewCount: true, likeCount: true, commentCount: true },
    });
    return row ? { postId, ...row } : null;
  }

  async trackView(postId: string, viewerKey: string): Promise<{ counted: boolean; counts: PostCounts }> {
    const rows = await this.db.$queryRaw<(CountsRow & { counted: bigint })[]>`
      WITH counted AS (
        INSERT INTO "PostView" ("postId", "viewerKey", "firstSeenAt", "lastCountedAt")
        VALUES (${postId}, ${viewerKey}, now(), now())
        ON CONFLICT ("postId", "viewerKey") DO UPDATE SET "lastCountedAt" = now()
          WHERE "PostView"."lastCountedAt" < now() - make_interval(mins => ${VIEW_WINDOW_MINUTES}::int)
        RETURNING 1
      )
      UPDATE "Post" SET "viewCount" = "viewCount" + (SELECT count(*) FROM counted)
      WHERE id = ${postId}
      RETURNING "viewCount", "likeCount", "commentCount", (SELECT count(*) FROM counted) AS counted`;
    const row = single(rows);
    return { counted: row.counted > 0n, counts: toCounts(postId, row) };
  }

  async like(postId: string, userId: string): Promise<{ changed: boolean; counts: PostCounts }> {
    const rows = await this.db.$queryRaw<(CountsRow & { changed: bigint })[]>`
      WITH added AS (
        INSERT INTO "PostLike" ("postId", "userId", "createdAt") VALUES (${postId}, ${userId}, now())
        ON CONFLICT DO NOTHING RETURNING 1
      )
      UPDATE "Post" SET "likeCount" = "likeCount" + (SELECT count(*) FROM added)
      WHERE id = ${postId}
      RETURNING "viewCount", "likeCount", "commentCount", (SELECT count(*) FROM added) AS changed`;
    const row = single(rows);
    return { changed: row.changed > 0n, counts: toCounts(postId, row) };
  }

  async unlike(postId: string, userId: string): Promise<{ changed: boolean; counts: PostCounts }> {
    const rows = await this.db.$queryRaw<(CountsRow & { changed: bigint })[]>`
      WITH removed AS (
        DELETE FROM "PostLike" WHERE "postId" = ${postId} AND "userId" = ${userId} RETURNING 1
      )
      UPDATE "Post" SET "likeCount" = "likeCount" - (SELECT count(*) FROM removed)
      WHERE id = ${postId}
      RETURNING "viewCount", "likeCount", "commentCount", (SELECT count(*) FROM removed) AS changed`;
    const row = single(rows);
    return { changed: row.changed > 0n, counts: toCounts(postId, row) };
  }
}

function single<T>(rows: T[]): T {
  const row = rows[0];
  if (!row) throw new Error('Post vanished during a counter update');
  return row;
}

function toCounts(postId: string, row: CountsRow): PostCounts {
  return { postId, viewCount: Number(row.viewCount), likeCount: Number(row.likeCount), commentCount: Number(row.commentCount) };
}
