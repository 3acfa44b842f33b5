import type { GraphQLError } from 'graphql';
import {
  LegacyCommentAddedDocument,
  LegacyCommentApprovedDocument,
  LegacyCommentsDocument,
  LegacySetTypingDocument,
  LegacyTypingDocument,
  type LegacyCommentFieldsFragment,
} from '../../generated/graphql/graphql.js';
import type { EndpointSession, LegacyEndpoint } from './endpoint.js';

/** A comment in the old field names. */
function commentData(comment: LegacyCommentFieldsFragment): Record<string, unknown> {
  return {
    id: comment.id,
    post_id: comment.postId,
    content: comment.content,
    author: comment.author.username,
    created_at: comment.createdAt,
    is_approved: comment.status === 'APPROVED',
  };
}

const postId = (session: EndpointSession): string => session.postId as string;

/**
 * `query comments` as the old `comments_data`, newest first, at most 50 (the old consumer's page). The API
 * pages forward only (oldest first) and a page of 50 is what the query cost limit allows: on a post with
 * more, these are its first 50, not its newest (clients wanting more use `query comments` itself).
 */
function sendComments(session: EndpointSession, done?: () => void, refused?: (errors: readonly GraphQLError[]) => void): void {
  session.run(
    LegacyCommentsDocument,
    { postId: postId(session) },
    ({ comments }) => {
      const list = comments.edges.map((edge) => commentData(edge.node)).reverse();
      session.send('comments_data', { post_id: postId(session), comment_count: list.length, comments: list });
      done?.();
    },
    refused ? { refused } : undefined,
  );
}

/** The live streams the old consumer's room group carried, from connect. */
function subscribeRoom(session: EndpointSession): void {
  const variables = { postId: postId(session) };
  session.subscribe('comment-added', LegacyCommentAddedDocument, variables, ({ commentAdded: event }) => session.send('comment_added', commentData(event.comment), event.timestamp));
  session.subscribe('comment-approved', LegacyCommentApprovedDocument, variables, ({ commentApproved: event }) => session.send('comment_approved', commentData(event.comment), event.timestamp));
  session.subscribe('typing', LegacyTypingDocument, variables, ({ typing: event }) => {
    // The old server told everyone but the typist, and sent no starting snapshot (Herald's has no user).
    if (!event.user || event.user.id === session.viewerId) return undefined;
    return session.send('user_typing', { user: event.user.username, is_typing: event.isTyping, typing_users: event.typingUsers.map((user) => user.username) }, event.timestamp);
  });
}

const setTyping = (session: EndpointSession, isTyping: boolean) => session.run(LegacySetTypingDocument, { postId: postId(session), isTyping }, () => undefined);

/**
 * `/ws/blog/comments/{post_id}/` (the old CommentConsumer): `comments_data` on connect and on
 * `get_comments` (`query comments`; a post the viewer may not see closes with 4004), then
 * `comment_added`, `comment_approved` and `user_typing` (`subscription commentAdded`, `commentApproved`,
 * `typing`); `typing_start` / `typing_stop` → `mutation setTyping`.
 */
export const commentsEndpoint: LegacyEndpoint = {
  name: 'CommentConsumer',
  authenticates: true,
  opened(session) {
    return new Promise<void>((resolve) => {
      sendComments(
        session,
        () => {
          subscribeRoom(session);
          resolve();
        },
        (errors) => {
          session.refuse(errors);
          resolve();
        },
      );
    });
  },
  messages: {
    typing_start: (session) => setTyping(session, true),
    typing_stop: (session) => setTyping(session, false),
    get_comments: (session) => sendComments(session),
  },
};
