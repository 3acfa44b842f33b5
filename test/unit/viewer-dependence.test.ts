import { describe, expect, it } from 'vitest';
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { parse, type ExecutionArgs, type ExecutionResult } from 'graphql';
import ViewerDependencePlugin from '../../src/graphql/plugins/viewer-dependence.js';
import { SharedExecution } from '../../src/graphql/plugins/shared-execution.js';
import { SubscriberResults } from '../../src/graphql/delivery/subscriber-results.js';
import { EventStream } from '../../src/realtime/event-stream.js';

interface Viewer {
  readonly id: string;
  readonly role: string;
}
interface TestContext {
  readonly viewer: Viewer | null;
  readonly services: object;
  readonly pubsub: object;
  readonly origin: object;
  readonly connection: null;
  /** The test's hand on each subscriber's stream. */
  readonly streams: EventStream<{ n: number }>[];
}

/**
 * A schema as a later change might add it: `Thing.greeting` reads the viewer without declaring it,
 * `Thing.declaredGreeting` declares it. Built with the same plugin as Herald's schema.
 */
function schemaWithAnUndeclaredViewerRead() {
  const builder = new SchemaBuilder<{ Context: TestContext }>({ plugins: [ScopeAuthPlugin, ViewerDependencePlugin], scopeAuth: { authScopes: () => ({}) } });
  const Thing = builder.objectRef<{ n: number }>('Thing').implement({
    fields: (t) => ({
      n: t.exposeInt('n'),
      greeting: t.string({ resolve: (_thing, _args, ctx) => `hello ${ctx.viewer?.id ?? 'stranger'}` }),
      declaredGreeting: t.string({ viewerDependent: true, resolve: (_thing, _args, ctx) => `hello ${ctx.viewer?.id ?? 'stranger'}` }),
    }),
  });
  builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
  builder.subscriptionType({
    fields: (t) => ({
      things: t.field({
        type: Thing,
        subscribe: (_root, _args, ctx) => {
          const stream = new EventStream<{ n: number }>({ capacity: 10, overflow: 'fail', expiryMs: 60_000 });
          ctx.streams.push(stream);
          return stream;
        },
        resolve: (thing) => thing,
      }),
    }),
  });
  return builder.toSchema();
}

const contextOf = (viewer: Viewer, streams: EventStream<{ n: number }>[]): TestContext => ({
  viewer,
  services: {},
  pubsub: {},
  origin: {},
  connection: null,
  streams,
});

/** Two viewers subscribe with one document; one event object reaches both (as pub/sub hands it). */
async function twoViewersReceive(query: string): Promise<[ExecutionResult, ExecutionResult]> {
  const schema = schemaWithAnUndeclaredViewerRead();
  const shared = new SharedExecution((error) => error as Error);
  const document = parse(query);
  const streams: EventStream<{ n: number }>[] = [];
  const subscribe = (viewer: Viewer) => shared.subscribe({ schema, document, contextValue: contextOf(viewer, streams) } as ExecutionArgs) as Promise<SubscriberResults>;
  const [alice, bob] = await Promise.all([subscribe({ id: 'alice', role: 'READER' }), subscribe({ id: 'bob', role: 'READER' })]);
  const event = { n: 1 };
  for (const stream of streams) stream.push(event);
  const [forAlice, forBob] = await Promise.all([alice.next(), bob.next()]);
  return [forAlice.value as ExecutionResult, forBob.value as ExecutionResult];
}

describe('viewer dependence declared on the field', () => {
  it('refuses, instead of leaking, a shared execution whose resolver reads the viewer without declaring it', async () => {
    const [forAlice, forBob] = await twoViewersReceive('subscription { things { n greeting } }');
    for (const result of [forAlice, forBob]) {
      // Executed once for both (no declared field): the undeclared read is an error, never alice's greeting for bob.
      expect(result.data).toEqual({ things: { n: 1, greeting: null } });
      expect(result.errors?.[0]?.message).toMatch(/declare `viewerDependent: true`/);
      expect(result.errors?.[0]?.path).toEqual(['things', 'greeting']);
    }
    expect(JSON.stringify(forBob)).not.toContain('alice');
  });

  it('executes per viewer when the selection includes a declared field', async () => {
    const [forAlice, forBob] = await twoViewersReceive('subscription { things { n declaredGreeting } }');
    expect(forAlice).toEqual({ data: { things: { n: 1, declaredGreeting: 'hello alice' } } });
    expect(forBob).toEqual({ data: { things: { n: 1, declaredGreeting: 'hello bob' } } });
  });
});
