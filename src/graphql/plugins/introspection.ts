import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The message a refused introspection query gets (with `code: FORBIDDEN`). */
export const INTROSPECTION_DISABLED = 'GraphQL introspection is disabled on this server';

/** Refuses the `__schema` and `__type` meta-fields; `__typename` stays (clients need it for caching). */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    const name = node.name.value;
    if (name === '__schema' || name === '__type') {
      context.reportError(new GraphQLError(`${INTROSPECTION_DISABLED} ("${name}" cannot be queried)`, { nodes: node, extensions: { code: 'FORBIDDEN' } }));
    }
  },
});

/**
 * GRAPHQL_INTROSPECTION=false: a validation rule in Yoga's pipeline, so HTTP, SSE and WebSocket operations
 * (graphql-ws validates through `yoga.getEnveloped`) are all refused, before anything executes.
 */
export function disableIntrospectionPlugin(): Plugin<Record<string, unknown>> {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(noIntrospection);
    },
  };
}
