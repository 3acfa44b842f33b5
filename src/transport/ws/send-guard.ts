import { SLOW_CONSUMER_CODE } from '../../graphql/mask-error.js';

/**
 * True for the error a 'fail' EventStream ends with on overflow: coded by maskError when it passed
 * Yoga's masking, or wrapped by graphql-ws (originalError) when it did not. Duck-typed (dual package).
 */
export function isSlowConsumerError(error: { readonly extensions?: Readonly<Record<string, unknown>>; readonly originalError?: unknown }): boolean {
  const original = error.originalError as { name?: unknown; extensions?: Record<string, unknown> } | undefined;
  return error.extensions?.code === SLOW_CONSUMER_CODE || original?.name === 'SlowConsumerError' || original?.extensions?.code === SLOW_CONSUMER_CODE;
}
