import { createClient, type Client, type FormattedExecutionResult as ExecutionResult } from "graphql-ws";
import WebSocket from 'ws';
import type { TestApp } from './test-app.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly data?: T | null;
  readonly errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
  readonly status: number;
}

/** POSTs one operation to /graphql, as any HTTP client would. */
export async function gql<T = Record<string, any>>(
  app: Pick<TestApp, 'httpUrl'>,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(app.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { ...body, status: response.status };
}

/** Like gql, but throws on any error and returns data. */
export async function gqlOk<T = Record<string, any>>(app: Pick<TestApp, 'httpUrl'>, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const result = await gql<T>(app, query, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL error: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export interface WsHandle {
  readonly client: Client;
  /** Resolves with the close event code once the socket closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  dispose(): Promise<void>;
}

/** A graphql-ws client that never retries, so tests see every close code. */
export function connectWs(app: Pick<TestApp, 'wsUrl'>, connectionParams: Record<string, unknown> | (() => Record<string, unknown>) = {}, url?: string): WsHandle {
  let resolveClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url: url ?? app.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams,
    onNonLazyError: () => undefined,
    on: { closed: (event) => resolveClosed({ code: (event as { code: number }).code, reason: String((event as { reason?: unknown }).reason ?? '') }) },
  });
  return { client, closed, dispose: () => client.dispose() as Promise<void> };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A live subscription: events queue up; `next()` waits for the next one with a bounded timeout, so
 * tests wait for events instead of sleeping.
 */
export class Subscription<T = Record<string, any>> {
  private readonly queue: ExecutionResult<T, unknown>[] = [];
  private waiters: ((value: ExecutionResult<T, unknown> | Error) => void)[] = [];
  private ended: Error | null = null;
  private readonly unsubscribe: () => void;
  completed = false;

  constructor(client: Client, query: string, variables: Record<string, unknown> = {}) {
    this.unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => this.push(value),
        error: (error) => this.finish(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => {
          this.completed = true;
          this.finish(new Error('subscription completed'));
        },
      },
    );
  }

  private push(value: ExecutionResult<T, unknown>) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(value);
    else this.queue.push(value);
  }

  private finish(error: Error) {
    this.ended = error;
    for (const waiter of this.waiters.splice(0)) waiter(error);
  }

  /** The next result (data or errors); rejects after `timeoutMs` or when the stream ends first. */
  next(timeoutMs = 5000): Promise<ExecutionResult<T, unknown>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no event within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (value: ExecutionResult<T, unknown> | Error) => {
        clearTimeout(timer);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits until an event satisfies `predicate`, skipping others; returns that event's data. */
  async until(predicate: (data: T) => boolean, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
      const result = await this.next(left);
      if (result.errors) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
      if (result.data && predicate(result.data)) return result.data;
    }
  }

  /** The error the stream ended with (e.g. FORBIDDEN at start): the server's errors, or a message. */
  async failure(timeoutMs = 5000): Promise<unknown> {
    try {
      const result = await this.next(timeoutMs);
      if (result.errors) return result.errors;
      throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('expected an error')) throw error;
      // An Error stringifies to {}: hand back its message (which carries the server's JSON errors).
      return error instanceof Error ? error.message : error;
    }
  }

  /** Events received but not consumed. */
  get pending(): number {
    return this.queue.length;
  }

  stop(): void {
    this.unsubscribe();
  }
}
