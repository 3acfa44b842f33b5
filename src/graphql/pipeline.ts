import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Config } from '../shared/config.js';
import { maskError } from './mask-error.js';
import { maskErrorsPlugin, type ErrorMask } from './plugins/mask-errors.js';
import { queryLimitPlugins } from './plugins/query-limits.js';
import { SharedExecution } from './plugins/shared-execution.js';
import { nulGuardPlugin } from './plugins/nul-guard.js';
import { disableIntrospectionPlugin } from './plugins/introspection.js';
import { hideFieldSuggestionsPlugin } from './plugins/field-suggestions.js';

const UNEXPECTED = 'Unexpected error.';

/** What a client may see of an error (coded errors pass; in development the rest keeps a `detail`). */
export function errorMask(config: Pick<Config, 'env'>): ErrorMask {
  const isDev = config.env !== 'production';
  return (error: unknown) => maskError(error, UNEXPECTED, isDev);
}

/**
 * The envelop plugins every operation runs through, whatever door it came in by (HTTP, SSE, each
 * WebSocket protocol): input and schema guards (NUL input; introspection and field suggestions as
 * configured), query limits, error masking, and shared subscription execution.
 */
export function pipelinePlugins(config: Pick<Config, 'env' | 'graphqlLimits' | 'graphqlIntrospection' | 'graphqlFieldSuggestions'>, logger: Logger): Plugin<Record<string, unknown>>[] {
  const mask = errorMask(config);
  const logUnexpected = (error: unknown) => logger.error({ err: error }, 'operation failed with an unexpected error');
  const shared = new SharedExecution(mask, logUnexpected);
  const guards = [nulGuardPlugin()];
  if (!config.graphqlIntrospection) guards.push(disableIntrospectionPlugin());
  if (!config.graphqlFieldSuggestions) guards.push(hideFieldSuggestionsPlugin());
  return [...guards, ...queryLimitPlugins(config.graphqlLimits), maskErrorsPlugin(mask, logUnexpected), shared.plugin()];
}
