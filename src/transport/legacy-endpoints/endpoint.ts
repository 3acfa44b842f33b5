import type { GraphQLError } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

/** A client message as the old endpoints received it: a JSON object with a string `type`. */
export type ClientMessage = Readonly<Record<string, unknown>> & { readonly type: string };

/** What the data handler of an operation receives: its result's `data`, typed by the document. */
export type DataHandler<T> = (data: T) => PromiseLike<unknown> | undefined | void;

/** Options of one GraphQL operation run for an endpoint. */
export interface RunOptions {
  /**
   * The operation was refused or failed (GraphQL errors, already masked). Default: an `error` message
   * with the first error's message and code, the socket stays open.
   */
  readonly refused?: (errors: readonly GraphQLError[]) => void;
}

/**
 * One socket of an old endpoint as an endpoint's handlers see it: GraphQL operations run through the
 * shared OperationRunner on this socket's registry Connection, and old-shaped messages out.
 */
export interface EndpointSession {
  /** The `{post_id}` of the path, or null on endpoints without one. */
  readonly postId: string | null;
  /** The connection's user id, null for an anonymous socket. */
  readonly viewerId: string | null;
  /**
   * Sends `{"type", "data", "timestamp"}` (timestamp: the event's, else now). Returns a promise while
   * the socket is backed up (return it from a data handler: the next events wait in their stream).
   */
  send(type: string, data: unknown, timestamp?: string): PromiseLike<void> | undefined;
  /** Sends a message of another shape (health's `status` at the top, as the old server did). */
  sendMessage(message: Readonly<Record<string, unknown>>): PromiseLike<void> | undefined;
  /** Sends `{"type": "error", "message", "code"?, "timestamp"}`; the socket stays usable. */
  error(message: string, code?: string): void;
  /** Runs a query or mutation once; `data` gets its result unless it was refused. */
  run<T, V>(document: TypedDocumentNode<T, V>, variables: V, data: DataHandler<T>, options?: RunOptions): void;
  /**
   * Starts a subscription under `key` (one per key: starting a running key again is a no-op and
   * returns false). `data` gets each event.
   */
  subscribe<T, V>(key: string, document: TypedDocumentNode<T, V>, variables: V, data: DataHandler<T>, options?: RunOptions): boolean;
  /** Ends the subscription under `key`, if one runs. */
  unsubscribe(key: string): void;
  /** The variables of the subscription running under `key`, undefined when none runs. */
  variablesOf(key: string): unknown;
  /**
   * The endpoint cannot serve this socket (what opening it runs was refused): an `error` message, then
   * the close code the old server used for that refusal (4001 not logged in, 4003 forbidden, 4004 no
   * such post).
   */
  refuse(errors: readonly GraphQLError[]): void;
}

/** A client message handler. Throwing is not expected: a bad field gets `session.error(...)`. */
export type MessageHandler = (session: EndpointSession, message: ClientMessage) => void;

/** One of the old system's endpoints. */
export interface LegacyEndpoint {
  /** The old consumer's name, for logs and docs. */
  readonly name: string;
  /** false: `?token=` is not read and the socket is anonymous (the health endpoint needs no auth). */
  readonly authenticates: boolean;
  /**
   * Runs when the socket is admitted; what the old consumer sent on connect. Messages the client sent
   * meanwhile wait until the returned promise settles, so they are answered after it (in order).
   */
  opened(session: EndpointSession): PromiseLike<void> | void;
  /** Handlers by message `type`; `ping` is answered for every endpoint. */
  readonly messages: Readonly<Record<string, MessageHandler>>;
}
