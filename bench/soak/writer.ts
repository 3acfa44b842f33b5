/**
 * Steady durable events through the GraphQL API: `updatePost` and `addComment` by each post's author (an
 * author's comment is approved at once, so every reader's `commentAdded` gets it), and staff
 * `sendSystemNotification` (a SYSTEM_ALERT to every `notifications` subscriber). Every write's content carries
 * its sequence and send time; accepted writes are logged per topic, which is what subscribers must receive.
 * One write per post at a time, so a post's update is never read back after the next one.
 */
import type { Api, TokenBook } from './accounts.js';
import { stamp, topicKey, type Written } from './protocol.js';

export interface Rates {
  readonly updatesPerSec: number;
  readonly commentsPerSec: number;
  readonly alertsPerSec: number;
}

type WriteKind = 'updatePost' | 'addComment' | 'sendSystemNotification';

export class Writer {
  readonly written: Record<string, Written[]> = {};
  readonly accepted: Record<WriteKind, number> = { updatePost: 0, addComment: 0, sendSystemNotification: 0 };
  readonly failed: Record<string, number> = {};
  lastError: string | null = null;
  /** Send time (ms) of the latest write that was accepted. */
  lastAcceptedSentAt = 0;
  skippedBusy = 0;
  private seq = 0;
  private readonly busy = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly api: Api,
    private readonly book: TokenBook,
  ) {}

  start(rates: Rates): void {
    const every = (perSec: number, write: (n: number) => void) => {
      if (perSec <= 0) return;
      let n = 0;
      this.timers.push(setInterval(() => write(n++), 1000 / perSec));
    };
    const posts = this.book.postIds.length;
    every(rates.updatesPerSec, (n) => this.write('updatePost', n % posts));
    every(rates.commentsPerSec, (n) => this.write('addComment', n % posts));
    every(rates.alertsPerSec, () => this.write('sendSystemNotification', -1));
  }

  /** Stops writing and waits for the requests in flight. */
  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await Promise.allSettled([...this.inFlight]);
  }

  get total(): number {
    return Object.values(this.accepted).reduce((a, b) => a + b, 0);
  }

  private write(kind: WriteKind, post: number): void {
    const lane = kind === 'sendSystemNotification' ? 'alerts' : `post${post}`;
    if (this.busy.has(lane)) {
      this.skippedBusy += 1;
      return;
    }
    this.busy.add(lane);
    const seq = ++this.seq;
    const sentAt = Date.now();
    const content = stamp(seq, sentAt);
    const postId = this.book.postIds[post] ?? null;
    const [query, variables, token, topic] =
      kind === 'updatePost'
        ? ['mutation($id: ID!, $c: String) { updatePost(id: $id, input: { content: $c }) { id } }', { id: postId, c: content }, this.book.authors[post]!.access, topicKey('postUpdated', postId)]
        : kind === 'addComment'
          ? ['mutation($p: ID!, $c: String!) { addComment(postId: $p, content: $c) { id } }', { p: postId, c: content }, this.book.authors[post]!.access, topicKey('commentAdded', postId)]
          : ['mutation($m: String!) { sendSystemNotification(input: { title: "soak", message: $m }) }', { m: content }, this.book.staff!.access, topicKey('notifications', null)];
    const request = this.api
      .request<Record<string, unknown>>(query, variables, token)
      .then((result) => {
        if (result.errors?.length || !result.data?.[kind]) {
          const code = result.errors?.[0]?.extensions?.code ?? 'no data';
          this.failed[`${kind}:${code}`] = (this.failed[`${kind}:${code}`] ?? 0) + 1;
          this.lastError = JSON.stringify(result.errors).slice(0, 300);
          return;
        }
        (this.written[topic] ??= []).push({ seq, sentAt });
        this.accepted[kind] += 1;
        this.lastAcceptedSentAt = Math.max(this.lastAcceptedSentAt, sentAt);
      })
      .catch((error: unknown) => {
        this.failed[`${kind}:network`] = (this.failed[`${kind}:network`] ?? 0) + 1;
        this.lastError = String(error).slice(0, 300);
      })
      .finally(() => {
        this.busy.delete(lane);
        this.inFlight.delete(request);
      });
    this.inFlight.add(request);
  }
}
