import { GraphQLError } from 'graphql';
import { serviceUnavailable } from '../shared/errors.js';

/** Connection-level failures of the database driver: the request may succeed once it is back. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P03', '53300', 'P1001', 'P1002', 'P1017', 'P2024']);
const UNAVAILABLE_MESSAGE = /connection terminated|timeout exceeded when trying to connect|Connection refused|Server has closed the connection|Can't reach database server|PGlite is closed/i;

/** extensions.code of the error a subscription ends with when its bounded queue overflowed. */
export const SLOW_CONSUMER_CODE = 'SLOW_CONSUMER';

/**
 * extensions.code of the error a subscription fails with when it cannot replay everything after its
 * `after` cursor (extensions.reason: MALFORMED_CURSOR, UNKNOWN_CURSOR or CURSOR_EXPIRED). Never a partial replay.
 */
export const RESUME_UNAVAILABLE_CODE = 'RESUME_UNAVAILABLE';

interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
  readonly originalCode?: unknown;
  readonly meta?: { readonly driverAdapterError?: unknown };
  readonly extensions?: Record<string, unknown>;
  readonly nodes?: GraphQLError['nodes'];
  readonly path?: GraphQLError['path'];
}

// Duck typing, not instanceof: graphql ships CJS and ESM builds, and an error created by one copy is not
// an instance of the other's class (the dual-package hazard), which would mask every coded error.
function asErrorLike(error: unknown): ErrorLike | null {
  return error && typeof error === 'object' ? (error as ErrorLike) : null;
}

const isGraphQLError = (error: ErrorLike | null): boolean => error?.name === 'GraphQLError';
const codeOf = (error: ErrorLike | null): string | null => (typeof error?.extensions?.code === 'string' ? error.extensions.code : null);

function isDatabaseUnavailable(error: unknown): boolean {
  let current = asErrorLike(error);
  for (let depth = 0; current && depth < 6; depth++) {
    if (current.name === 'PrismaClientInitializationError') return true;
    if (typeof current.code === 'string' && UNAVAILABLE_CODES.has(current.code)) return true;
    // A driver adapter's error (Prisma P2039 "Database error") keeps PostgreSQL's code as `originalCode`.
    if (typeof current.originalCode === 'string' && UNAVAILABLE_CODES.has(current.originalCode)) return true;
    if (typeof current.message === 'string' && UNAVAILABLE_MESSAGE.test(current.message)) return true;
    current = asErrorLike(current.cause ?? current.originalError ?? current.meta?.driverAdapterError);
  }
  return false;
}

/**
 * Errors the client may see: coded GraphQLErrors pass; a dead database becomes SERVICE_UNAVAILABLE;
 * everything else is masked as "Unexpected error." (the original is logged, never sent).
 */
export function maskError(error: unknown, message: string, isDev: boolean): Error {
  const outer = asErrorLike(error);
  const original = asErrorLike(outer?.originalError) ?? outer;
  const located = { nodes: outer?.nodes, path: outer?.path };
  if (codeOf(original) && isGraphQLError(original)) {
    return new GraphQLError(String(original?.message ?? message), { ...located, extensions: original?.extensions });
  }
  if (original?.name === 'ResumeError') {
    const reason = (original as { reason?: unknown }).reason;
    return new GraphQLError(String(original.message), { ...located, extensions: { code: RESUME_UNAVAILABLE_CODE, reason } });
  }
  if (original?.name === 'SlowConsumerError') {
    // Not a server fault: the client read too slowly. ws.ts closes the socket with 4413 on this code.
    return new GraphQLError(String(original.message), { ...located, extensions: { code: SLOW_CONSUMER_CODE } });
  }
  if (isDatabaseUnavailable(original)) {
    const coded = serviceUnavailable('The database');
    return new GraphQLError(coded.message, { ...located, extensions: coded.extensions });
  }
  // A variable's value refused by its type (an enum or scalar's parseValue threw a GraphQLError): bad input,
  // worded by graphql-js for the client. It has no path: a resolver's uncoded error is still masked below.
  if (isGraphQLError(outer) && !outer?.path && original !== outer && isGraphQLError(original)) {
    return new GraphQLError(String(outer?.message ?? message), { ...located, extensions: { code: 'BAD_USER_INPUT' } });
  }
  // Parse and validation errors carry no original error and are safe to show as they are.
  if (isGraphQLError(outer) && !outer?.originalError) {
    return error instanceof Error ? error : new GraphQLError(String(outer?.message), { ...located, extensions: outer?.extensions });
  }
  return new GraphQLError(message, {
    ...located,
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(isDev && original ? { detail: developmentDetail(original) } : {}) },
  });
}

/** Absolute file paths (POSIX, `file://`, Windows), with any `:line:column` after them. */
const FILE_PATH = /(?:file:\/\/)?(?:[A-Za-z]:\\|\/)(?:[^\s:'"`()]+[\\/])+[^\s:'"`()]*(?::\d+)*/g;
const MAX_DETAIL = 200;

/**
 * Outside production, a hint at what failed, for the developer looking at the response: the error's
 * class and code, and for errors of our own code their last message line. Never the whole message:
 * Prisma's start with the call and its source file, followed by a code excerpt and the driver's
 * internals; those stay in the server log.
 */
export function developmentDetail(error: { readonly name?: unknown; readonly message?: unknown; readonly code?: unknown }): string {
  const name = typeof error.name === 'string' && error.name ? error.name : 'Error';
  const code = typeof error.code === 'string' || typeof error.code === 'number' ? ` ${error.code}` : '';
  const message = typeof error.message === 'string' ? error.message : '';
  if (/^(Prisma|DriverAdapter)/.test(name) || /prisma/i.test(message)) return `${name}${code} (details in the server log)`;
  const lastLine = message.split('\n').map((line) => line.trim()).filter(Boolean).at(-1) ?? '';
  const text = lastLine.replace(FILE_PATH, '<path>');
  return `${name}${code}: ${text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text}`;
}
