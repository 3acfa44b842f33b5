import {
  createSourceEventStream,
  execute,
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { operationOf, rootFieldOf } from '../operation.js';
import type { Context } from '../context.js';
import { EventStream } from '../../realtime/event-stream.js';

/**
 * Fields whose value depends on who asks (their resolver reads `ctx.viewer`, or the value is the
 * viewer's own state). A subscription selecting any of them is executed per viewer, never shared
 * across viewers. `test/unit/shared-subscriptions.test.ts` fails when a resolver reading the viewer is
 * missing here.
 */
export const VIEWER_DEPENDENT_FIELDS: ReadonlySet<string> = new Set([
  'Post.likedByMe',
  'User.email',
  // requireVisible(post, viewer): a draft's comments resolve for its author and staff only.
  'Comment.post',
  'Notification.read',
  'Notification.readAt',
  'Query.me',
]);

/**
 * Root fields whose stream is the viewer's own (their events are chosen by viewer id): keyed by viewer
 * whatever is selected. Other root fields filter each event per subscriber before it is executed (the
 * subscriber's own EventStream filter), so what reaches execution is already visible to that subscriber.
 */
export const VIEWER_SCOPED_ROOT_FIELDS: ReadonlySet<string> = new Set(['notifications']);

export type Executed = ExecutionResult | Promise<ExecutionResult>;

/**
 * Where a transport that can deliver without pulling (the WebSocket fast path) finds the stream of
 * its subscription. Put on the operation's context before `subscribe`; Yoga's wrappers around the
 * returned iterator hide it otherwise. A symbol key survives context spreads and never reaches a resolver.
 */
export const SHARED_STREAM_SLOT: unique symbol = Symbol('herald.sharedStream');

export interface SharedStreamSlot {
  stream: SharedResultStream | null;
}

/**
 * The results of one subscriber: its own source events, each executed once per shape and shared.
 * Pulled like any async iterator (SSE, and WebSocket operations whose source is not an EventStream);
 * `pushSource` exposes the subscriber's EventStream for push delivery.
 */
export class SharedResultStream implements AsyncIterableIterator<ExecutionResult> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    /** Executes (or reuses the shared execution of) one source event. */
    readonly run: (event: unknown) => Executed,
  ) {}

  /** The subscriber's own bounded stream, when the resolver returned one (push delivery possible). */
  get pushSource(): EventStream<unknown> | null {
    return this.source instanceof EventStream ? (this.source as EventStream<unknown>) : null;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    const step = await this.source.next();
    if (step.done) return { value: undefined, done: true };
    return { value: await this.run(step.value), done: false };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    if (this.source.throw) await this.source.throw(error);
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}

/**
 * Executes each subscription event once per shape (document, operation, variables, viewer scope) and
 * hands the same result to every subscriber of that shape.
 *
 * Each subscriber still runs its own `subscribe` (authorization at start, its own bounded EventStream
 * with its own filter and overflow policy); only the per-event execution is shared. Results are
 * memoised on the event object itself (a WeakMap), so they live exactly as long as some subscriber
 * still holds that event, and a subscriber can only be handed a result for an event its own stream
 * let through. Both engines hand one event object to every local listener of a channel.
 */
export class SharedSubscriptions {
  private readonly results = new WeakMap<object, Map<string, Executed>>();
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private readonly viewerDependence = new WeakMap<DocumentNode, Map<string, boolean>>();
  private nextDocumentId = 1;

  /** Envelop plugin: replaces the subscribe step of every subscription (WebSocket and SSE). */
  plugin(): Plugin<Record<string, unknown>> {
    return {
      onSubscribe: ({ setSubscribeFn }) => {
        setSubscribeFn((args) => this.subscribe(args as ExecutionArgs));
      },
    };
  }

  /** graphql-js `subscribe`, with the per-event `execute` shared among subscribers of one shape. */
  async subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const shape = this.shapeOf(args);
    const stream = new SharedResultStream(source[Symbol.asyncIterator](), (event) => this.executeFor(args, shape, event));
    const slot = (args.contextValue as { [SHARED_STREAM_SLOT]?: SharedStreamSlot } | undefined)?.[SHARED_STREAM_SLOT];
    if (slot) slot.stream = stream;
    return stream;
  }

  /** The sharing key of one subscription, computed once when it starts. */
  shapeOf(args: ExecutionArgs): string {
    const operationName = args.operationName ?? '';
    const viewer = (args.contextValue as Partial<Context> | undefined)?.viewer ?? null;
    const root = rootFieldOf(operationOf(args.document, args.operationName));
    const perViewer = root === null || VIEWER_SCOPED_ROOT_FIELDS.has(root) || this.isViewerDependent(args.schema, args.document, operationName);
    const scope = perViewer ? (viewer ? `viewer:${viewer.id}:${viewer.role}` : 'anonymous') : 'any';
    return `${this.documentId(args.document)}\u0000${operationName}\u0000${canonicalJson(args.variableValues ?? {})}\u0000${scope}`;
  }

  private executeFor(args: ExecutionArgs, shape: string, event: unknown): Executed {
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    let byShape = this.results.get(event);
    if (!byShape) {
      byShape = new Map();
      this.results.set(event, byShape);
    }
    const cached = byShape.get(shape);
    if (cached !== undefined) return cached;
    const result = execute({ ...args, rootValue: event });
    byShape.set(shape, result);
    return result;
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

  private isViewerDependent(schema: GraphQLSchema, document: DocumentNode, operationName: string): boolean {
    let byOperation = this.viewerDependence.get(document);
    if (!byOperation) {
      byOperation = new Map();
      this.viewerDependence.set(document, byOperation);
    }
    let dependent = byOperation.get(operationName);
    if (dependent === undefined) {
      dependent = selectsViewerDependentField(schema, document, operationName || null);
      byOperation.set(operationName, dependent);
    }
    return dependent;
  }
}

/**
 * True when the operation selects (anywhere, fragments included, @skip/@include ignored) a field in
 * VIEWER_DEPENDENT_FIELDS, or a field or type guarded by scope-auth (whose answer depends on the viewer).
 * Unknown shapes count as dependent: sharing less is always safe.
 */
export function selectsViewerDependentField(schema: GraphQLSchema, document: DocumentNode, operationName: string | null): boolean {
  const operation = operationOf(document, operationName);
  const rootType = schema.getSubscriptionType();
  if (!operation || !rootType) return true;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const visiting = new Set<string>();

  const walk = (type: GraphQLCompositeType, selectionSet: SelectionSetNode): boolean => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) continue;
        const candidates = isAbstractType(type) ? schema.getPossibleTypes(type) : [type];
        for (const candidate of candidates) {
          if (!isObjectType(candidate)) return true;
          const field = candidate.getFields()[name];
          if (!field) continue; // selected on another member of the union/interface
          if (VIEWER_DEPENDENT_FIELDS.has(`${candidate.name}.${name}`) || guardedByScopes(field) || guardedByScopes(candidate)) return true;
          const fieldType = getNamedType(field.type);
          if (selection.selectionSet && isComposite(fieldType) && walk(fieldType, selection.selectionSet)) return true;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (!condition || !isComposite(condition)) return true;
        if (walk(condition, selection.selectionSet)) return true;
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) return true;
        if (visiting.has(fragment.name.value)) continue;
        visiting.add(fragment.name.value);
        const condition = schema.getType(fragment.typeCondition.name.value);
        if (!condition || !isComposite(condition) || walk(condition, fragment.selectionSet)) return true;
      }
    }
    return false;
  };
  return walk(rootType, operation.selectionSet);
}

/** Pothos keeps a field's or type's options (authScopes included) in its extensions. */
function guardedByScopes(element: GraphQLField<unknown, unknown> | GraphQLNamedType): boolean {
  const options = (element.extensions as { pothosOptions?: { authScopes?: unknown; grantScopes?: unknown } } | undefined)?.pothosOptions;
  return options?.authScopes !== undefined || options?.grantScopes !== undefined;
}

function isComposite(type: GraphQLNamedType): type is GraphQLCompositeType {
  return isObjectType(type) || isAbstractType(type);
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
