import { GraphQLError } from 'graphql';
import { Prisma } from '../generated/prisma/client.js';
import { serviceUnavailable } from '../errors.js';

/** Connection-level failures of the database driver: the request may succeed once it is back. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P03', '53300']);

function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError && ['P1001', 'P1002', 'P1017', 'P2024'].includes(error.code)) return true;
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && /connection terminated|timeout exceeded when trying to connect|Connection refused|Server has closed the connection/i.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Errors the client may see: coded GraphQLErrors pass; a dead database becomes SERVICE_UNAVAILABLE;
 * everything else is masked as "Unexpected error." (the original is logged, never sent).
 */
export function maskError(error: unknown, message: string, isDev: boolean): Error {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (original instanceof GraphQLError && original.extensions?.code) {
    return error instanceof GraphQLError && error !== original
      ? new GraphQLError(original.message, { nodes: error.nodes, path: error.path, extensions: original.extensions })
      : original;
  }
  if (error instanceof GraphQLError && error.extensions?.code && !error.originalError) return error;
  if (isDatabaseUnavailable(original)) {
    const coded = serviceUnavailable('The database');
    return error instanceof GraphQLError ? new GraphQLError(coded.message, { nodes: error.nodes, path: error.path, extensions: coded.extensions }) : coded;
  }
  if (error instanceof GraphQLError && !error.originalError) return error; // parse/validation errors
  return new GraphQLError(message, {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(isDev && original instanceof Error ? { detail: original.message } : {}) },
  });
}
