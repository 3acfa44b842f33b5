import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** graphql-js's `didYouMean` tails: `Did you mean "title"?`, `Did you mean the enum value "READER"?`, `... "a", "b", or "c"?`. */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

function withoutSuggestion<E extends Error>(error: E): E | GraphQLError {
  const message = error.message.replace(SUGGESTION, '');
  if (message === error.message || !isGraphQLError(error)) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

// Duck typing: graphql ships CJS and ESM builds, and the other copy's errors fail `instanceof`.
const isGraphQLError = (error: Error): error is GraphQLError => error.name === 'GraphQLError';

function resultWithoutSuggestions<T extends ExecutionResult>(result: T): T {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => withoutSuggestion(error)) };
}

const isIterable = (value: unknown): value is AsyncIterable<unknown> => typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * GRAPHQL_FIELD_SUGGESTIONS=false: cuts "Did you mean …?" from every error that graphql-js words that way,
 * which would otherwise spell out field, argument, type and enum names of the schema to someone guessing.
 * Validation errors (fields, arguments, types, literal enum values) and the variable-coercion errors that
 * execute and subscribe return (enum values and input fields given as variables) are both covered. This
 * replaces graphql-armor's `blockFieldSuggestion`, which only rewrites validation errors and misses the enum
 * wording.
 */
export function hideFieldSuggestionsPlugin(): Plugin<Record<string, unknown>> {
  return {
    onValidate() {
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map(withoutSuggestion));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!isIterable(result)) setResult(resultWithoutSuggestions(result));
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isIterable(result)) setResult(resultWithoutSuggestions(result));
        },
      };
    },
  };
}
