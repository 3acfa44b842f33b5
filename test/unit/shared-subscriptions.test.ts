import { describe, expect, it } from 'vitest';
import { getNamedType, isObjectType, parse, type ExecutionArgs, type GraphQLObjectType } from 'graphql';
import { schema } from '../../src/graphql/schema.js';
import { canonicalJson, selectsViewerDependentField, SharedSubscriptions, VIEWER_DEPENDENT_FIELDS } from '../../src/graphql/plugins/shared-execution.js';

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

  // A guard for future fields: every resolver reachable from Subscription that reads the viewer (or the
  // request origin) must be listed, or subscriptions selecting it would be shared across viewers.
  it('lists every resolver reachable from Subscription that reads the viewer', () => {
    const unlisted: string[] = [];
    const seen = new Set<string>();
    const visit = (type: GraphQLObjectType) => {
      if (seen.has(type.name)) return;
      seen.add(type.name);
      for (const field of Object.values(type.getFields())) {
        const resolve = (field.extensions as { pothosOptions?: { resolve?: unknown } }).pothosOptions?.resolve;
        const coordinate = `${type.name}.${field.name}`;
        if (type !== schema.getSubscriptionType() && typeof resolve === 'function' && /\bviewer\b|\.origin\b|viewerKeyOf/.test(String(resolve)) && !VIEWER_DEPENDENT_FIELDS.has(coordinate)) {
          unlisted.push(coordinate);
        }
        const named = getNamedType(field.type);
        if (isObjectType(named)) visit(named);
      }
    };
    visit(schema.getSubscriptionType()!);
    expect(unlisted).toEqual([]);
  });
});

describe('subscription shapes', () => {
  const shared = new SharedSubscriptions();
  const argsFor = (query: string, viewer: { id: string; role: string } | null, variableValues: Record<string, unknown> = { postId: 'p' }) =>
    ({ schema, document: parse(query), contextValue: { viewer }, variableValues }) as unknown as ExecutionArgs;
  const alice = { id: 'alice', role: 'READER' };
  const bob = { id: 'bob', role: 'READER' };

  it('is one shape for every viewer of a viewer-independent document', () => {
    const document = parse('subscription($postId: ID!) { postUpdated(postId: $postId) { post { id } } }');
    const of = (viewer: typeof alice | null) => shared.shapeOf({ ...argsFor('subscription { __typename }', viewer), document });
    expect(of(alice)).toBe(of(bob));
    expect(of(alice)).toBe(of(null));
  });

  it('is one shape per viewer when the document reads the viewer, and per viewer for notifications', () => {
    const document = parse('subscription($postId: ID!) { postUpdated(postId: $postId) { post { likedByMe } } }');
    const of = (viewer: typeof alice) => shared.shapeOf({ ...argsFor('subscription { __typename }', viewer), document });
    expect(of(alice)).not.toBe(of(bob));
    expect(of(alice)).not.toBe(of({ ...alice, role: 'STAFF' }));
    const notifications = parse('subscription { notifications { id title } }');
    const ofNotifications = (viewer: typeof alice) => shared.shapeOf({ ...argsFor('subscription { __typename }', viewer, {}), document: notifications });
    expect(ofNotifications(alice)).not.toBe(ofNotifications(bob));
  });

  it('tells variables apart, whatever their key order', () => {
    const document = parse('subscription($postId: ID!) { postUpdated(postId: $postId) { post { id } } }');
    const of = (variableValues: Record<string, unknown>) => shared.shapeOf({ ...argsFor('subscription { __typename }', alice, variableValues), document });
    expect(of({ postId: 'p1' })).not.toBe(of({ postId: 'p2' }));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe(canonicalJson({ a: [{ c: null, d: 2 }], b: 1 }));
  });
});
