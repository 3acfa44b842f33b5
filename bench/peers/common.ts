/**
 * What every peer shares: the event shape (a comment-like event), the ready line the harness waits
 * for, and the forced-GC hook (SIGUSR2, so no peer needs an extra HTTP route for it).
 */
export interface CommentEvent {
  postId: string;
  commentId: string;
  /** 100 characters; starts with the publisher's send stamp and sequence so clients can measure latency. */
  content: string;
  timestamp: string;
}

let commentSeq = 0;

export function commentEvent(postId: string, content: string): CommentEvent {
  commentSeq += 1;
  return { postId, commentId: `c${commentSeq}`, content, timestamp: new Date().toISOString() };
}

export const COMMENT_SDL = /* GraphQL */ `
  type Comment { postId: ID!  commentId: ID!  content: String!  timestamp: String! }
  type Query { ok: Boolean! }
  input CommentInput { postId: ID!  content: String! }
  type Mutation { publishComments(events: [CommentInput!]!): Int! }
  type Subscription { commentAdded(postId: ID!): Comment! }
`;

/** The one document the GraphQL peers (not Herald) are subscribed with. */
export const COMMENT_SUBSCRIPTION = 'subscription($postId: ID!) { commentAdded(postId: $postId) { postId commentId content timestamp } }';

export interface PublishRequest {
  readonly events: readonly { postId: string; content: string }[];
}

export function topicOf(postId: string): string {
  return `comment:${postId}`;
}

/** Prints the line the harness waits for, and lets it force a full GC before reading RSS. */
export function announceReady(info: Record<string, unknown>): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('SIGUSR2', () => {
    gc?.();
    gc?.();
  });
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}

export function portFromEnv(): number {
  return Number(process.env.BENCH_PORT ?? 0);
}

/** Reads a JSON body (bounded: the harness sends small batches). */
export async function readJson(req: import('node:http').IncomingMessage, limit = 4 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
