import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { DeliveredResult } from '../delivery/delivered-result.js';
import { PendingResult } from '../delivery/pending-result.js';
import { sharedContext } from '../delivery/shared-context.js';
import { SubscriberResults, type SharedOutcome } from '../delivery/subscriber-results.js';
import { selectsViewerDependentField } from './viewer-dependence.js';
import { startOnlyVariables } from './start-only-arguments.js';
import { StringPool } from '../../shared/string-pool.js';

/** Masks an error before any client sees it (the same function for every transport). */
export type ResultErrorMask = (error: unknown) => Error;

/** One subscription's sharing key and the viewer its shared execution may see (undefined: none). */
interface Shape {
  readonly key: string;
  readonly viewer: Context['viewer'] | undefined;
}

/**
 * Executes each subscription event once per shape (document, operation, variables, and the viewer
 * when the selection depends on it) and hands the same masked, serialised-once result to every
 * subscriber of that shape, on every transport.
 *
 * Each subscriber still runs its own `subscribe` (authorization at start, its own bounded stream with
 * its own filter and overflow policy); only the per-event execution is shared. Results are memoised on
 * the event object itself (a WeakMap), so they live exactly as long as some subscriber still holds that
 * event, and a subscriber can only be handed a result for an event its own stream let through. Both
 * pub/sub engines hand one event object to every local listener of a channel.
 *
 * Per-result work for subscriptions belongs here (error masking is), where it runs once per shared
 * result for WebSocket, SSE and every protocol alike. An envelop plugin that wraps subscription results
 * itself (an `onSubscribeResult` returning `onNext`) still works: WebSocket transports then see a wrapped
 * iterator and pull it, as SSE does, so no door skips it (they lose push delivery, not correctness).
 */
export class SharedExecution {
  private readonly results = new WeakMap<object, Map<string, SharedOutcome>>();
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private readonly viewerDependence = new WeakMap<DocumentNode, Map<string, boolean>>();
  private readonly startOnly = new WeakMap<DocumentNode, Map<string, ReadonlySet<string>>>();
  private nextDocumentId = 1;
  private readonly shapeKeys = new StringPool();

  constructor(
    private readonly mask: ResultErrorMask,
    /** Told of each error that masking turned into "Unexpected error." (a server fault worth a log line). */
    private readonly onUnexpected: (error: GraphQLError) => void = () => undefined,
  ) {}

  /** Envelop plugin: replaces the subscribe step of every subscription (WebSocket and SSE). */
  plugin(): Plugin<Record<string, unknown>> {
    return {
      onSubscribe: ({ setSubscribeFn }) => {
        setSubscribeFn((args) => this.subscribe(args as ExecutionArgs));
      },
    };
  }

  /** graphql-js `subscribe`, with the per-event `execute` shared among subscribers of one shape. */
  async subscribe(args: ExecutionArgs): Promise<SubscriberResults | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const shape = this.shapeOf(args);
    return new SubscriberResults(source[Symbol.asyncIterator](), this, args, shape, this.mask);
  }

  /** The sharing key of one subscription, computed once when it starts. */
  shapeOf(args: ExecutionArgs): Shape {
    const operationName = args.operationName ?? '';
    const viewer = (args.contextValue as Partial<Context> | undefined)?.viewer ?? null;
    const perViewer = this.isViewerDependent(args, operationName);
    const scope = perViewer ? (viewer ? `viewer:${viewer.id}:${viewer.role}` : 'anonymous') : 'any';
    const key = `${this.documentId(args.document)}\u0000${operationName}\u0000${canonicalJson(this.resultVariables(args, operationName))}\u0000${scope}`;
    // Every subscriber keeps its key for its life: one copy per shape, not per subscriber.
    return { key: this.shapeKeys.get(key), viewer: perViewer ? viewer : undefined };
  }

  /** One event's result for a subscriber of `shape` (SubscriberResults calls it per event). */
  resultFor(args: ExecutionArgs, shape: Shape, event: unknown): SharedOutcome {
    if (typeof event !== 'object' || event === null) return this.executeShared(args, shape, event);
    let byShape = this.results.get(event);
    if (!byShape) {
      byShape = new Map();
      this.results.set(event, byShape);
    }
    const cached = byShape.get(shape.key);
    if (cached !== undefined) return cached instanceof PendingResult && cached.settled ? cached.settled : cached;
    const outcome = this.executeShared(args, shape, event);
    byShape.set(shape.key, outcome);
    return outcome;
  }

  private executeShared(args: ExecutionArgs, shape: Shape, event: unknown): SharedOutcome {
    const contextValue = sharedContext(args.contextValue as Context, shape.viewer);
    const executed = execute({ ...args, contextValue, rootValue: event });
    if (executed instanceof Promise) return new PendingResult(executed.then((result) => this.deliverable(result)));
    return this.deliverable(executed as ExecutionResult);
  }

  private deliverable(result: ExecutionResult): DeliveredResult {
    if (!result.errors) return new DeliveredResult(result);
    const errors = result.errors.map((error) => {
      const masked = this.mask(error);
      if ((masked as GraphQLError).extensions?.code === 'INTERNAL_SERVER_ERROR') this.onUnexpected(error);
      return masked as GraphQLError;
    });
    return new DeliveredResult({ ...result, errors });
  }

  // Yoga's parser cache returns one DocumentNode per query text, so identity is a cheap document key.
  private documentId(document: DocumentNode): number {
    let id = this.documentIds.get(document);
    if (id === undefined) {
      id = this.nextDocumentId++;
      this.documentIds.set(document, id);
    }
    return id;
  }

  /** The variables that can change an event's result: all but those only deciding where it starts (`after`). */
  private resultVariables(args: ExecutionArgs, operationName: string): Readonly<Record<string, unknown>> {
    const variables = args.variableValues ?? {};
    let byOperation = this.startOnly.get(args.document);
    if (!byOperation) {
      byOperation = new Map();
      this.startOnly.set(args.document, byOperation);
    }
    let startOnly = byOperation.get(operationName);
    if (startOnly === undefined) {
      startOnly = startOnlyVariables(args.schema, args.document, operationName || null);
      byOperation.set(operationName, startOnly);
    }
    if (startOnly.size === 0) return variables;
    return Object.fromEntries(Object.entries(variables).filter(([name]) => !startOnly.has(name)));
  }

  private isViewerDependent(args: ExecutionArgs, operationName: string): boolean {
    let byOperation = this.viewerDependence.get(args.document);
    if (!byOperation) {
      byOperation = new Map();
      this.viewerDependence.set(args.document, byOperation);
    }
    let dependent = byOperation.get(operationName);
    if (dependent === undefined) {
      dependent = selectsViewerDependentField(args.schema, args.document, operationName || null);
      byOperation.set(operationName, dependent);
    }
    return dependent;
  }
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are one shape. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
