import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/** Turns any error into what a client may see (coded errors pass; the rest become "Unexpected error."). */
export type ErrorMask = (error: unknown) => Error;

/**
 * Error masking for everything but subscription streams: query and mutation results, a subscription
 * refused when it starts, and errors thrown while building the context. It replaces Yoga's built-in
 * masking, which also wraps every subscription stream to mask each result per subscriber; streams are
 * masked once per shared result by SharedExecution instead, for every transport. No hook here may
 * touch a stream (`onNext`, `onEnd` or `onSubscribeError` would make envelop wrap it, and WebSocket
 * transports would fall back to pulling it). `onUnexpected` hears of each error that masking hid.
 */
export function maskErrorsPlugin(mask: ErrorMask, onUnexpected: (error: unknown) => void): Plugin<Record<string, unknown>> {
  const maskOne = (error: unknown): Error => {
    const masked = mask(error);
    if ((masked as GraphQLError).extensions?.code === 'INTERNAL_SERVER_ERROR') onUnexpected(error);
    return masked;
  };
  const maskResult = (result: ExecutionResult): ExecutionResult | null =>
    result.errors ? { ...result, errors: result.errors.map((error) => maskOne(error) as GraphQLError) } : null;
  return {
    onPluginInit({ registerContextErrorHandler }) {
      registerContextErrorHandler(({ error, setError }) => setError(maskOne(error)));
    },
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        if (isAsyncIterable(result)) return;
        const masked = maskResult(result);
        if (masked) setResult(masked);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (isAsyncIterable(result)) return;
        const masked = maskResult(result);
        if (masked) setResult(masked);
      },
    }),
  };
}
