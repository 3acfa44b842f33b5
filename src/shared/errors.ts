import { GraphQLError } from 'graphql';

/** Every error a client sees carries one of these in `extensions.code`. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'CONFLICT'
  | 'SERVICE_UNAVAILABLE';

export function codedError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

export const unauthenticated = (message = 'You must be logged in') => codedError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You are not allowed to do this') => codedError('FORBIDDEN', message);
export const notFound = (what: string) => codedError('NOT_FOUND', `${what} not found`);
export const badInput = (message: string, field?: string) => codedError('BAD_USER_INPUT', message, field ? { field } : {});
export const conflict = (message: string, field?: string) => codedError('CONFLICT', message, field ? { field } : {});
export const rateLimited = (retryAfterMs: number) =>
  codedError('RATE_LIMITED', `Too many requests; retry in ${Math.ceil(retryAfterMs / 1000)}s`, {
    retryAfterMs: Math.ceil(retryAfterMs),
  });
export const serviceUnavailable = (what: string) =>
  codedError('SERVICE_UNAVAILABLE', `${what} is temporarily unavailable; retry shortly`);
