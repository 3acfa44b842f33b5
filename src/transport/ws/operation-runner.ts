import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable } from 'graphql-yoga';
import type { Logger } from 'pino';
import { DeliveredResult, type ResultSink } from '../../graphql/delivery/delivered-result.js';
import { SubscriberResults } from '../../graphql/delivery/subscriber-results.js';
import { operationOf, rootFieldOf, rootFieldsOf } from '../../graphql/operation.js';
import { TokenError, parseBearer } from '../../modules/auth/tokens.js';
import type { Viewer } from '../../modules/auth/viewer.js';
import type { Connection, ConnectionOperation } from '../../modules/connections/connection.js';
import type { ConnectionRegistry } from '../../modules/connections/connection-registry.js';
import type { OperationRefusal } from '../../modules/connections/operation-limits.js';
import { CloseCode } from '../../shared/close-codes.js';
import { StringPool } from '../../shared/string-pool.js';
import type { Authenticate } from '../context-factory.js';
import type { HeraldYoga } from '../http/yoga.js';
import type { TrustedDocuments } from '../../graphql/trusted-documents.js';
import { isSlowConsumerError } from './send-guard.js';

/** A GraphQL request as every WebSocket protocol carries it. */
export interface OperationPayload {
  readonly query?: string | null;
  /** A trusted document's id instead of (or with) its text. */
  readonly documentId?: string | null;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly operationName?: string | null;
  readonly extensions?: Readonly<Record<string, unknown>> | null;
}

/** Where one operation's outcome goes; the protocol adapter frames it. Nothing is called after the client completed it. */
export interface OperationSink {
  /** One result (queries and mutations: once; subscriptions: per event). A returned promise is backpressure. */
  next(result: DeliveredResult): PromiseLike<unknown> | undefined;
  /** The operation was refused or failed: errors for the client (already masked); it is over. */
  error(errors: readonly GraphQLError[]): void;
  /** It finished by itself (a query answered, a stream ended). */
  complete(): void;
}

export interface OperationRunnerDeps {
  /** Yoga's enveloped pipeline: parse, validate, context, execute and subscribe with every plugin. */
  readonly pipeline: HeraldYoga['getEnveloped'];
  readonly connections: ConnectionRegistry;
  readonly authenticate: Authenticate;
  /** WS_JWT_AUTH_REQUIRED: anonymous connections may only run `health`. */
  readonly authRequired: boolean;
  /** Masks an error before a client sees it (the pipeline's own masking). */
  readonly mask: (error: unknown) => Error;
  /** Resolves `documentId` (or Apollo's persistedQuery) to a trusted document, and refuses text under `only`. */
  readonly trustedDocuments: TrustedDocuments;
  readonly logger: Logger;
}

/** What a protocol adapter asks of the runner (OperationRunner; a fake in adapter unit tests). */
export interface Operations {
  start(connection: Connection, id: string, payload: OperationPayload, sink: OperationSink): 'duplicate' | undefined;
  /** The client completed `id`: it ends at once and delivers nothing more. */
  stop(connection: Connection, id: string): void;
}

/** Root fields an anonymous connection may run when WS_JWT_AUTH_REQUIRED is true. */
const PUBLIC_ROOT_FIELDS: ReadonlySet<string> = new Set(['health', '__typename']);

/**
 * Runs the GraphQL operations of WebSocket connections, whatever protocol carries them: the same
 * pipeline as HTTP and SSE (Yoga's envelop: parse, validate, limits, masking, shared execution), the
 * connection's identity and limits from ConnectionRegistry, and push delivery of shared results.
 * An operation id is registered the moment its message arrives, so one id is one operation at a time,
 * and a completed operation (or a closed connection) delivers nothing more.
 */
export class OperationRunner implements Operations {
  /** A subscription's context keeps its query text for its whole life: one copy per text, not per subscriber. */
  private readonly queryTexts = new StringPool();

  constructor(private readonly deps: OperationRunnerDeps) {}

  start(connection: Connection, id: string, payload: OperationPayload, sink: OperationSink): 'duplicate' | undefined {
    const begun = this.deps.connections.begin(connection, id);
    if ('duplicate' in begun) return 'duplicate';
    if ('error' in begun) {
      sink.error([refusalError(begun)]);
      return undefined;
    }
    this.run(connection, begun, payload, sink).catch((error: unknown) => {
      this.deps.logger.error({ err: error }, 'websocket operation failed');
      if (!begun.isEnded) sink.error([this.deps.mask(error) as GraphQLError]);
      begun.end();
    });
    return undefined;
  }

  stop(connection: Connection, id: string): void {
    connection.operations.get(id)?.end();
  }

  private async run(connection: Connection, operation: ConnectionOperation, payload: OperationPayload, sink: OperationSink): Promise<void> {
    const fail = (errors: readonly GraphQLError[]) => {
      if (operation.isEnded) return;
      sink.error(errors);
      operation.end();
    };
    const identity = await this.identify(connection, payload);
    if (operation.isEnded) return;
    if (identity) return fail([identity]);
    const resolved = this.deps.trustedDocuments.resolve(payload);
    if (resolved instanceof GraphQLError) return fail([resolved]);
    const viewer = connection.viewer;
    const { schema, parse, validate, contextFactory, execute, subscribe } = this.deps.pipeline({
      params: { query: this.queryTexts.get(resolved.query), variables: payload.variables, operationName: payload.operationName, extensions: payload.extensions },
      herald: { viewer, origin: connection.origin, connection },
    });
    let document;
    try {
      // A trusted document was parsed once, at start-up; its validation is answered from Yoga's cache.
      document = resolved.document ?? parse(resolved.query);
    } catch (error) {
      return fail([error instanceof GraphQLError ? error : new GraphQLError('Syntax error', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    }
    const errors = validate(schema, document);
    if (errors.length > 0) return fail(errors);
    const definition = operationOf(document, payload.operationName);
    if (!definition) return fail([new GraphQLError('Unable to identify operation', { extensions: { code: 'BAD_USER_INPUT' } })]);
    if (!viewer && this.deps.authRequired) {
      for (const field of rootFieldsOf(document, definition)) {
        if (!PUBLIC_ROOT_FIELDS.has(field)) {
          return fail([new GraphQLError('This WebSocket needs an access token (connectionParams.authorization)', { extensions: { code: 'UNAUTHENTICATED' } })]);
        }
      }
    }
    const isSubscription = definition.operation === 'subscription';
    if (isSubscription) {
      const refusal = this.deps.connections.startSubscription(connection, operation, rootFieldOf(definition) ?? 'unknown');
      if (refusal) return fail([refusalError(refusal)]);
    }
    const contextValue = await contextFactory();
    if (operation.isEnded) return;
    const args: ExecutionArgs = { schema, document, contextValue, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined };
    if (!isSubscription) return answerOnce(operation, sink, (await execute(args)) as ExecutionResult);
    const result = await subscribe(args);
    if (operation.isEnded) {
      if (isAsyncIterable(result)) void (result as AsyncIterableIterator<unknown>).return?.();
      return;
    }
    // Not a stream: refused when it started (FORBIDDEN, NOT_FOUND...), a result with errors, then complete.
    if (!isAsyncIterable(result)) return answerOnce(operation, sink, result as ExecutionResult);
    this.deliver(connection, operation, result as AsyncIterableIterator<ExecutionResult>, sink);
  }

  /**
   * An operation may carry its own token (`extensions.headers.Authorization`, what GraphiQL sends):
   * the connection adopts it (see ConnectionRegistry.adopt). Returns an error to refuse the operation.
   */
  private async identify(connection: Connection, payload: OperationPayload): Promise<GraphQLError | null> {
    const headers = payload.extensions?.headers as Record<string, unknown> | undefined;
    const token = parseBearer(headers?.Authorization) ?? parseBearer(headers?.authorization);
    if (!token) return null;
    let viewer: Viewer;
    try {
      viewer = await this.deps.authenticate(token);
    } catch (error) {
      if (error instanceof TokenError) return new GraphQLError(error.message, { extensions: { code: 'UNAUTHENTICATED', reason: error.reason } });
      throw error;
    }
    const refusal = await this.deps.connections.adopt(connection, viewer);
    if (!refusal) return null;
    if ('error' in refusal) return refusalError(refusal);
    connection.close(refusal.code, refusal.reason);
    return new GraphQLError(refusal.reason, { extensions: { code: 'FORBIDDEN' } });
  }

  /** Push when the pipeline handed back the shared results themselves; pull when a plugin wrapped them. */
  private deliver(connection: Connection, operation: ConnectionOperation, results: AsyncIterableIterator<ExecutionResult>, sink: OperationSink): void {
    operation.onEnd(() => void results.return?.().catch(() => undefined));
    const pushed = new PushedOperation(connection, operation, sink, this.deps.mask);
    if (results instanceof SubscriberResults) {
      results.pipeTo(pushed);
      return;
    }
    void pullInto(results, pushed);
  }
}

/** A running subscription's results on their way to its sink (one object per subscription, no closures). */
class PushedOperation implements ResultSink {
  constructor(
    private readonly connection: Connection,
    private readonly operation: ConnectionOperation,
    private readonly sink: OperationSink,
    private readonly mask: (error: unknown) => Error,
  ) {}

  next(delivered: DeliveredResult): PromiseLike<unknown> | undefined {
    return this.operation.isEnded ? undefined : this.sink.next(delivered);
  }

  end(error: Error | null): void {
    const operation = this.operation;
    if (operation.isEnded) return;
    if (error) {
      const masked = this.mask(error) as GraphQLError;
      this.sink.error([masked]);
      // A 'fail' stream overflowed (its client reads too slowly): a gap would mislead, so the whole
      // socket closes with the documented 4413 rather than the client carrying on unaware.
      if (isSlowConsumerError(masked)) this.connection.close(CloseCode.SlowConsumer, 'Slow consumer: event queue full');
    } else {
      this.sink.complete();
    }
    operation.end();
  }
}

/** A one-result operation: its result, then complete, unless the client completed it meanwhile. */
async function answerOnce(operation: ConnectionOperation, sink: OperationSink, result: ExecutionResult): Promise<void> {
  if (operation.isEnded) return;
  await sink.next(new DeliveredResult(result));
  if (operation.isEnded) return;
  sink.complete();
  operation.end();
}

/** Pulls a wrapped result stream (some plugin acts on each result) into the sink, one result at a time. */
async function pullInto(results: AsyncIterableIterator<ExecutionResult>, sink: ResultSink): Promise<void> {
  try {
    for (;;) {
      const step = await results.next();
      if (step.done) break;
      await sink.next(new DeliveredResult(step.value));
    }
    sink.end(null);
  } catch (error) {
    sink.end(error instanceof Error ? error : new Error(String(error)));
  }
}

function refusalError(refusal: OperationRefusal): GraphQLError {
  return new GraphQLError(refusal.error, { extensions: { ...refusal.extensions, code: refusal.code } });
}
