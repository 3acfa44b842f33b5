import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../../graphql/context.js';
import type { Connection } from '../../modules/connections/connection.js';
import type { ConnectionRegistry } from '../../modules/connections/connection-registry.js';
import { CloseCode } from '../../shared/close-codes.js';
import { parseDurableEventId } from '../../realtime/event-cursor.js';

/**
 * SSE subscriptions are connections too: each stream is registered with ConnectionRegistry for its
 * life, so the rules of the WebSocket door hold at this one. It takes a slot of the user's
 * WS_MAX_CONNECTIONS_PER_USER cap (over it the subscription is refused: RATE_LIMITED, limit
 * `connectionsPerUser`), and it ends (a last event with the reason, then the end of the stream) when
 * its access token expires, its session is revoked or its role changed (code UNAUTHENTICATED), or the
 * server shuts down (CONNECTION_CLOSED). Only SSE subscriptions are wrapped: WebSocket ones stay pushed.
 */
export function sseConnectionsPlugin(connections: ConnectionRegistry): Plugin<Record<string, unknown>> {
  return {
    onSubscribe: ({ args, subscribeFn, setSubscribeFn }) => {
      const context = args.contextValue as unknown as Context;
      if (context.origin?.transport !== 'sse') return;
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        let stream: EndableStream | null = null;
        let ended: { code: number; reason: string } | null = null;
        const opened = await connections.open({
          protocol: 'sse',
          origin: { ip: context.origin.ip, userAgent: context.origin.userAgent, clientId: context.origin.clientId },
          viewer: context.viewer,
          link: {
            close: (code, reason) => {
              ended = { code, reason };
              stream?.end(code, reason);
            },
          },
        });
        if (!('id' in opened)) {
          return { errors: [new GraphQLError(`Too many streams: ${opened.reason}`, { extensions: { code: 'RATE_LIMITED', limit: 'connectionsPerUser' } })] };
        }
        const connection = opened as Connection;
        const result = await subscribeFn(subscribeArgs);
        if (!isAsyncIterable(result)) {
          await connections.closed(connection, 1000, 'Subscription refused');
          return result;
        }
        stream = new EndableStream((result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator](), () => void connections.closed(connection, 1000, 'Stream ended'));
        const closedMeanwhile = ended as { code: number; reason: string } | null;
        if (closedMeanwhile) stream.end(closedMeanwhile.code, closedMeanwhile.reason);
        return stream;
      });
    },
  };
}

/**
 * A stored event's result carries SSE's `id:` field: Yoga writes `data: <stringify(result)>`, so the id
 * follows on its own line of the same event. An EventSource (or graphql-sse) sends it back as
 * `Last-Event-ID` when it reconnects, and the subscription resumes after it (Context.lastEventId).
 */
function withEventIdLine(result: ExecutionResult): ExecutionResult {
  const eventId = durableEventIdOf(result);
  if (!eventId) return result;
  return Object.assign({}, result, { stringify: (sanitised: ExecutionResult) => `${JSON.stringify(sanitised)}\nid: ${eventId}` });
}

function durableEventIdOf(result: ExecutionResult): string | null {
  const data = result.data;
  if (!data) return null;
  for (const value of Object.values(data)) {
    const eventId = value && typeof value === 'object' ? (value as { eventId?: unknown }).eventId : undefined;
    if (typeof eventId === 'string' && parseDurableEventId(eventId)) return eventId;
  }
  return null;
}

/** A result stream the server can end, with a last event saying why (SSE has no close codes). */
class EndableStream implements AsyncIterableIterator<ExecutionResult> {
  private last: ExecutionResult | null = null;
  private finished = false;

  constructor(
    private readonly source: AsyncIterator<ExecutionResult>,
    private readonly onFinished: () => void,
  ) {}

  end(code: number, reason: string): void {
    if (this.finished || this.last) return;
    const errorCode = code === CloseCode.Forbidden ? 'UNAUTHENTICATED' : 'CONNECTION_CLOSED';
    this.last = { errors: [new GraphQLError(reason, { extensions: { code: errorCode, closeCode: code } })] };
    // Ends the subscriber's stream: a pending next() resolves as done, and the last event follows.
    void this.source.return?.();
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.finished) return { value: undefined, done: true };
    const step = this.last ? ({ value: undefined, done: true } as const) : await this.source.next().catch((error: unknown) => this.fail(error));
    if (!step.done) return { value: withEventIdLine(step.value), done: false };
    const last = this.last;
    this.last = null;
    this.finish();
    return last ? { value: last, done: false } : { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    await this.source.return?.();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }

  private fail(error: unknown): never {
    this.finish();
    throw error;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinished();
  }
}
