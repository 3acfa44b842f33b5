import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import RelayPlugin from '@pothos/plugin-relay';
import ViewerDependencePlugin from './plugins/viewer-dependence.js';
import { GraphQLError } from 'graphql';
import type { Context, LoggedInContext } from './context.js';
import { forbidden, unauthenticated } from '../shared/errors.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';

/**
 * The schema builder. Scopes: `loggedIn` (any valid token), `staff` (role STAFF),
 * `postAuthor` (the viewer wrote the post with that id). Subscriptions are authorized when they start.
 * Fields whose value depends on who asks declare `viewerDependent: true` (plugins/viewer-dependence.ts).
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { loggedIn: boolean; staff: boolean; postAuthor: string };
  AuthContexts: { loggedIn: LoggedInContext; staff: LoggedInContext; postAuthor: LoggedInContext };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, ViewerDependencePlugin, RelayPlugin],
  defaultFieldNullability: false,
  // Connections only (posts, comments, notifications); no global `node` lookup: ids are plain UUIDs.
  relay: { clientMutationId: 'omit', cursorType: 'String', nodeQueryOptions: false, nodesQueryOptions: false },
  scopeAuth: {
    authorizeOnSubscribe: true,
    // A thrown GraphQLError inside a scope (e.g. NOT_FOUND for a missing post) reaches the client as is.
    treatErrorsAsUnauthorized: false,
    authScopes: (context) => ({
      loggedIn: context.viewer !== null,
      staff: context.viewer?.role === 'STAFF',
      postAuthor: async (postId: string) =>
        context.viewer !== null && (await context.services.posts.authorIdOf(postId)) === context.viewer.id,
    }),
    unauthorizedError: (_parent, context, _info, result) => {
      const error = context.viewer ? forbidden(result.message) : unauthenticated();
      return error instanceof GraphQLError ? error : new Error(String(error));
    },
  },
});

builder.addScalarType('DateTime', DateTimeScalar);
builder.addScalarType('JSON', JSONScalar);

builder.queryType({ description: 'Reads.' });
builder.mutationType({ description: 'Writes. Each write publishes its events after it commits.' });
builder.subscriptionType({
  description: 'Live streams over graphql-ws (WebSocket) or SSE. Each starts with authorization and ends when the client completes it.',
});
