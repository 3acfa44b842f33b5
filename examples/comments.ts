/**
 * Comments and typing (the old `client --test comments`): watches commentAdded, commentApproved and
 * typing on a post, then types, comments and stops typing.
 *   npx tsx examples/comments.ts --url http://localhost:4000/graphql --token T --post-id ID [--text "Nice post"]
 */
import { AddCommentDocument, CommentsDocument, OnCommentAddedDocument, OnCommentApprovedDocument, OnTypingDocument, SetTypingDocument } from '../src/generated/graphql/graphql.js';
import { connect, exampleOptions, request, required, run, show, subscribe } from './lib/herald-client.js';

/** Resolves with the first event `predicate` accepts (printing every event), or null after `ms`. */
function watch<T>(label: string, events: AsyncGenerator<T>, predicate: (event: T) => boolean = () => true, ms = 5000): Promise<T | null> {
  return new Promise((resolve) => {
    setTimeout(() => resolve(null), ms).unref();
    void (async () => {
      for await (const event of events) {
        show(label, event);
        if (predicate(event)) resolve(event);
      }
    })().catch((error: unknown) => {
      console.error(`${label}:`, error instanceof Error ? error.message : error);
      resolve(null);
    });
  });
}

run(async () => {
  const options = exampleOptions(['post-id', 'text']);
  const postId = required(options, 'post-id', 'comments.ts --token T --post-id ID [--text "..."]');
  const text = options.values.text ?? 'Hello from examples/comments.ts';

  const page = await request(options, CommentsDocument, { postId, first: 5 });
  for (const { node } of page.comments.edges) show('comment', { id: node.id, status: node.status, by: node.author.username, content: node.content });

  const client = connect(options);
  // A PENDING comment reaches its writer, the post's author and staff; an approved one everyone.
  const added = watch('commentAdded', subscribe(client, OnCommentAddedDocument, { postId }), (e) => e.commentAdded.comment.content === text, 10_000);
  void watch('commentApproved', subscribe(client, OnCommentApprovedDocument, { postId }), () => false, 60_000);
  const typing = watch('typing', subscribe(client, OnTypingDocument, { postId }), (e) => e.typing.isTyping);

  // Our own typing event coming back shows the subscriptions are live before we comment.
  await request(options, SetTypingDocument, { postId, isTyping: true });
  if (!(await typing)) console.error('no typing event within 5 s');
  const comment = (await request(options, AddCommentDocument, { postId, content: text })).addComment;
  show('addComment', { id: comment.id, status: comment.status });
  await request(options, SetTypingDocument, { postId, isTyping: false });
  if (!(await added)) console.error('no commentAdded event within 10 s');
  await client.dispose();
});
