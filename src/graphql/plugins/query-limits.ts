import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../../shared/config.js';

/** Which limit an over-limit document broke; sent as `extensions.limit` next to `code: BAD_USER_INPUT`. */
export type QueryLimit = 'maxDepth' | 'maxAliases' | 'maxTokens' | 'maxDirectives' | 'maxCost';

type ArmorConfig = NonNullable<ConstructorParameters<typeof EnvelopArmor>[0]>;
/** armor's onReject callback type (its types package is only a transitive dependency). */
type GraphQLArmorRejectCallback = NonNullable<NonNullable<ArmorConfig['maxDepth']>['onReject']>[number];

/** Directives per operation: not in the configuration because no honest client gets near it. */
const MAX_DIRECTIVES = 50;

/** Re-creates armor's error as Herald's coded error (armor's own errors carry no code and would be masked). */
export function queryLimitError(limit: QueryLimit, armorError: GraphQLError): GraphQLError {
  // Armor prefixes "Syntax Error: " to every rejection; the limit is not a syntax error.
  const message = armorError.message.replace(/^Syntax Error: /, '');
  return new GraphQLError(message, { nodes: armorError.nodes, extensions: { code: 'BAD_USER_INPUT', limit } });
}

/**
 * Report a validation-rule rejection through the validation context instead of throwing: a throw
 * escapes `validate()` and graphql-ws would close the socket with 4500 instead of answering with errors.
 */
function reportInValidation(limit: QueryLimit): GraphQLArmorRejectCallback {
  return (ctx, error) => ctx?.reportError(queryLimitError(limit, error));
}

/**
 * The token limit runs inside the parser, where there is no validation context: throwing is the only
 * way out, and parse errors are answered as errors on every transport (HTTP 400, WS `error` message).
 */
function throwFromParser(): GraphQLArmorRejectCallback {
  return (_ctx, error) => {
    throw queryLimitError('maxTokens', error);
  };
}

/**
 * GraphQL Armor's depth, alias, token, directive and cost limits as envelop plugins. They run in Yoga's
 * pipeline, and so for HTTP, SSE and WebSocket operations alike (ws.ts parses and validates through
 * `yoga.getEnveloped`). Every rejection carries `code: BAD_USER_INPUT` and `limit`.
 */
export function queryLimitPlugins(limits: Config['graphqlLimits']): Plugin<Record<string, unknown>>[] {
  const common = { exposeLimits: true, propagateOnRejection: false };
  const armor = new EnvelopArmor({
    // Off here: GRAPHQL_FIELD_SUGGESTIONS is applied by field-suggestions.ts, which also covers enum values
    // and variable errors that armor's rewrite misses.
    blockFieldSuggestion: { enabled: false },
    maxDepth: { ...common, n: limits.maxDepth, onReject: [reportInValidation('maxDepth')] },
    maxAliases: { ...common, n: limits.maxAliases, onReject: [reportInValidation('maxAliases')] },
    maxDirectives: { ...common, n: MAX_DIRECTIVES, onReject: [reportInValidation('maxDirectives')] },
    costLimit: { ...common, maxCost: limits.maxCost, onReject: [reportInValidation('maxCost')] },
    maxTokens: { ...common, n: limits.maxTokens, onReject: [throwFromParser()] },
  });
  return armor.protect().plugins as Plugin<Record<string, unknown>>[];
}
