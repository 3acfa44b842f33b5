import { describe, expect, it } from 'vitest';
import { parse, type ExecutionArgs } from 'graphql';
import { schema } from '../../src/graphql/schema.js';
import { canonicalJson, SharedExecution } from '../../src/graphql/plugins/shared-execution.js';
import { selectsViewerDependentField } from '../../src/graphql/plugins/viewer-dependence.js';

const dependent = (query: string, operationName: string | null = null) => selectsViewerDependentField(schema, parse(query), operationName);

describe('viewer dependence of a subscription selection', () => {
  it('shares selections of viewer-independent fields', () => {
    expect(dependent('subscription { postUpdated(postId: "p") { eventId change post { id title author { id username } } } }')).toBe(false);
    expect(dependent('subscription { commentAdded(postId: "p") { eventId comment { id content status author { displayName } } } }')).toBe(false);
  });

  it('finds viewer-dependent fields at any depth, through fragments and inline fragments', () => {
    expect(dependent('subscription { postUpdated(postId: "p") { post { likedByMe } } }')).toBe(true);
    expect(dependent('subscription { postUpdated(postId: "p") { post { author { email } } } }')).toBe(true);
    expect(dependent('subscription { commentAdded(postId: "p") { comment { post { id } } } }')).toBe(true);
    expect(dependent('subscription { postUpdated(postId: "p") { post { ...P } } } fragment P on Post { author { ...U } } fragment U on User { email }')).toBe(true);
    expect(dependent('subscription { postUpdated(postId: "p") { post { ... on Post { likedByMe } } } }')).toBe(true);
    expect(dependent('subscription { notifications { id read } }')).toBe(true);
  });

  it('judges the named operation only', () => {
    const query = 'subscription A { postUpdated(postId: "p") { post { likedByMe } } } subscription B { postUpdated(postId: "p") { post { id } } }';
    expect(dependent(query, 'A')).toBe(true);
    expect(dependent(query, 'B')).toBe(false);
  });
});

describe('subscription shapes', () => {
  const shared = new SharedExecution((error) => error as Error);
  const argsFor = (query: string, viewer: { id: string; role: string } | null, variableValues: Record<string, unknown> = { postId: 'p' }) =>
    ({ schema, document: parse(query), contextValue: { viewer }, variableValues }) as unknown as ExecutionArgs;
  const alice = { id: 'alice', role: 'READER' };
  const bob = { id: 'bob', role: 'READER' };

  it('is one shape for every viewer of a viewer-independent document', () => {
    const document = parse('subscription($postId: ID!) { postUpdated(postId: $postId) { post { id } } }');
    const of = (viewer: typeof alice | null) => shared.shapeOf({ ...argsFor('subscription { __typename }', viewer), document }).key;
    expect(of(alice)).toBe(of(bob));
    expect(of(alice)).toBe(of(null));
  });

  it('is one shape per viewer when the document reads the viewer, and per viewer for notifications', () => {
    const document = parse('subscription($postId: ID!) { postUpdated(postId: $postId) { post { likedByMe } } }');
    const of = (viewer: typeof alice) => shared.shapeOf({ ...argsFor('subscription { __typename }', viewer), document }).key;
    expect(of(alice)).not.toBe(of(bob));
    expect(of(alice)).not.toBe(of({ ...alice, role: 'STAFF' }));
    const notifications = parse('subscription { notifications { id title } }');
    const ofNotifications = (viewer: typeof alice) => shared.shapeOf({ ...argsFor('subscription { __typename }', viewer, {}), document: notifications }).key;
    expect(ofNotifications(alice)).not.toBe(ofNotifications(bob));
  });

  it('tells variables apart, whatever their key order', () => {
    const document = parse('subscription($postId: ID!) { postUpdated(postId: $postId) { post { id } } }');
    const of = (variableValues: Record<string, unknown>) => shared.shapeOf({ ...argsFor('subscription { __typename }', alice, variableValues), document }).key;
    expect(of({ postId: 'p1' })).not.toBe(of({ postId: 'p2' }));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe(canonicalJson({ a: [{ c: null, d: 2 }], b: 1 }));
  });
});
