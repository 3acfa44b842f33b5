/**
 * Resume without writing it: a graphql-ws subscription that keeps the `eventId` of the last event it
 * received in its own `after` variable. graphql-ws re-sends the very payload object of a subscription each
 * time it reconnects (`retryAttempts`), so after any drop (a deploy's 1001, token expiry, a network blip,
 * 4413) the server replays exactly what was missed, then continues live. Works for every subscription
 * over stored events: `notifications`, `commentAdded`, `commentApproved`, `postUpdated`.
 *
 * If the server cannot replay (`RESUME_UNAVAILABLE`: the cursor is older than its replay window), the
 * sink's `error` gets that error: refetch what the screen shows, then subscribe again without `after`.
 *
 * The same function serves Apollo Client and urql (README "Resuming"):
 *   Apollo: `new ApolloLink((operation) => new Observable((observer) =>
 *             subscribeResumable(client, { query: print(operation.query), variables: operation.variables,
 *             operationName: operation.operationName }, observer)))`
 *   urql:   `subscriptionExchange({ forwardSubscription: (request) => ({ subscribe: (sink) =>
 *             ({ unsubscribe: subscribeResumable(client, { ...request, query: request.query ?? '' }, sink) }) }) })`
 */
import type { Client, FormattedExecutionResult, SubscribePayload } from 'graphql-ws';

export interface ResumableOptions {
  /** The variable the cursor travels in (default `after`; the document must declare it: `$after: String`). */
  readonly cursorVariable?: string;
  /** The cursor an event carries (default: `eventId` of the subscription's root field). */
  readonly eventIdOf?: (data: Record<string, unknown>) => string | null | undefined;
  /** Called with each cursor as it advances (to keep it across page reloads, say). */
  readonly onCursor?: (eventId: string) => void;
}

/** Where results go: graphql-ws's Sink, an Apollo Observable's observer, urql's sink all fit. */
export interface ResultObserver<TResult> {
  next(result: TResult): void;
  error(error: unknown): void;
  complete(): void;
}

/** Subscribes, keeping the payload's cursor variable at the last received `eventId`. Returns the unsubscribe. */
export function subscribeResumable<TResult = FormattedExecutionResult<Record<string, unknown>, unknown>>(
  client: Client,
  payload: SubscribePayload,
  sink: ResultObserver<TResult>,
  options: ResumableOptions = {},
): () => void {
  const cursorVariable = options.cursorVariable ?? 'after';
  const eventIdOf = options.eventIdOf ?? rootEventId;
  // Our own copy: graphql-ws re-sends this object on every reconnect, so what we write here is what it sends.
  const variables: Record<string, unknown> = { ...(payload.variables ?? {}) };
  const resumable: SubscribePayload = { ...payload, variables };
  return client.subscribe<Record<string, unknown>>(resumable, {
    next(result) {
      const eventId = result.data ? eventIdOf(result.data) : null;
      if (eventId) {
        variables[cursorVariable] = eventId;
        options.onCursor?.(eventId);
      }
      // The client library's own result type for the same JSON.
      sink.next(result as unknown as TResult);
    },
    error: (error) => sink.error(error),
    complete: () => sink.complete(),
  });
}

function rootEventId(data: Record<string, unknown>): string | null {
  for (const value of Object.values(data)) {
    const eventId = value && typeof value === 'object' ? (value as { eventId?: unknown }).eventId : undefined;
    if (typeof eventId === 'string') return eventId;
  }
  return null;
}
