/**
 * What the comments module tells the notifications module (implemented by NotificationService).
 * A comment on your post → COMMENT_ADDED to the post's author; your comment approved → COMMENT_APPROVED to you.
 * Neither notifies a user about their own action.
 */
export interface CommentNotifier {
  commentAdded(event: {
    readonly commentId: string;
    readonly postId: string;
    readonly postTitle: string;
    readonly postAuthorId: string;
    readonly commenterId: string;
    readonly commenterName: string;
  }): Promise<void>;
  commentApproved(event: {
    readonly commentId: string;
    readonly postId: string;
    readonly postTitle: string;
    readonly commenterId: string;
    readonly moderatorId: string;
  }): Promise<void>;
}
