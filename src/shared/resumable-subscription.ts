/**
 * Resume without writing it: a graphql-ws subscription that keeps the `eventId` of the last event it
 * received in its own `after` variable. graphql-ws re-sends the very payload object of a subscription each
 * time it reconnects (`retryAttempts`), so after any drop (a deploy's 1001, token expiry, a network blip,
 * 4413) the server replays exactly what was missed, then continues live. Works for every subscription
 * over stored events: `notifications`, `commentAdded`, `commentApproved`, `postUpdated`.
 *
 * If the server cannot replay (`RESUME_UNAVAILABLE`: the cursor is older than its replay window), the
 * sink's `error` gets that error: refetch what the screen shows, then subscribe again without `after`. A moment
 * of `SERVICE_UNAVAILABLE` is retried from the same cursor.
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

/**
 * Subscribes, keeping the payload's cursor variable at the last received `eventId`. Returns the unsubscribe.
 * A subscription the server could not serve for a moment (`SERVICE_UNAVAILABLE`: its database away, at start or
 * for one event) is subscribed again after a short wait (0.5 s, doubling to 30 s) from the same cursor, so the
 * event that failed is replayed instead of lost; other errors reach `sink.error`.
 */
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
  let generation = 0;
  let stopped = false;
  let failures = 0;
  let unsubscribe: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const again = () => {
    if (stopped || timer) return;
    generation++;
    const previous = unsubscribe;
    unsubscribe = null;
    previous?.();
    timer = setTimeout(() => {
      timer = null;
      start();
      // Jittered, so the subscribers of one database outage do not all come back in the same instant.
    }, Math.min(30_000, 500 * 2 ** failures++) * (0.75 + Math.random() / 2));
  };

  function start(): void {
    const mine = ++generation;
    const current = () => mine === generation && !stopped;
    unsubscribe = client.subscribe<Record<string, unknown>>(resumable, {
      next(result) {
        if (!current()) return;
        if (!result.data && isUnavailable(result.errors)) return again();
        failures = 0;
        const eventId = result.data ? eventIdOf(result.data) : null;
        if (eventId) {
          variables[cursorVariable] = eventId;
          options.onCursor?.(eventId);
        }
        // The client library's own result type for the same JSON.
        sink.next(result as unknown as TResult);
      },
      error(error) {
        if (!current()) return;
        if (isUnavailable(error)) return again();
        sink.error(error);
      },
      complete() {
        if (current()) sink.complete();
      },
    });
  }

  start();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    unsubscribe?.();
  };
}

/** GraphQL errors (an array, as graphql-ws hands them) of which one is SERVICE_UNAVAILABLE. */
function isUnavailable(errors: unknown): boolean {
  return Array.isArray(errors) && errors.some((e) => (e as { extensions?: { code?: unknown } } | null)?.extensions?.code === 'SERVICE_UNAVAILABLE');
}

function rootEventId(data: Record<string, unknown>): string | null {
  for (const value of Object.values(data)) {
    const eventId = value && typeof value === 'object' ? (value as { eventId?: unknown }).eventId : undefined;
    if (typeof eventId === 'string') return eventId;
  }
  return null;
}
