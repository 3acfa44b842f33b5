import { GraphQLError } from 'graphql';
import type { NotificationType } from '../../generated/graphql/graphql.js';

/**
 * Close codes of the old endpoints beyond Herald's own (4403, 4008, 4410, 4413, 1001, 1009): the old
 * server's, for a socket whose endpoint refuses it once it is open (docs/operations.md lists them).
 */
export const LegacyCloseCode = {
  /** Not logged in: the endpoint needs a token (the old BaseWebSocketConsumer's 4001). */
  Unauthenticated: 4001,
  /** Logged in but not allowed (the analytics dashboard for a non-staff user). */
  Forbidden: 4003,
  /** The post of the path does not exist or the viewer may not see it (the old consumers' 4004). */
  NotFound: 4004,
} as const;

/** The close code for a refusal, by the GraphQL error's `extensions.code`. */
export function closeCodeFor(errors: readonly GraphQLError[]): number {
  switch (errors[0]?.extensions?.code) {
    case 'UNAUTHENTICATED':
      return LegacyCloseCode.Unauthenticated;
    case 'NOT_FOUND':
      return LegacyCloseCode.NotFound;
    default:
      return LegacyCloseCode.Forbidden;
  }
}

/** `me` answered null: the socket has no user (WS_JWT_AUTH_REQUIRED=false and no `?token=`). */
export const notLoggedIn = (): GraphQLError => new GraphQLError('Not logged in: connect with ?token=<access token>', { extensions: { code: 'UNAUTHENTICATED' } });

/** `{"type", "data", "timestamp"}`, the old server's `send_notification`. */
export function frame(type: string, data: unknown, timestamp = new Date().toISOString()): string {
  return JSON.stringify({ type, data, timestamp });
}

/** `{"type": "error", "message", "timestamp"}` (+ `code` when a GraphQL error gave one). */
export function errorFrame(message: string, code?: string): string {
  return JSON.stringify(code ? { type: 'error', message, code, timestamp: new Date().toISOString() } : { type: 'error', message, timestamp: new Date().toISOString() });
}

/** The old names of notification types (snake_case) and Herald's enum values. */
const OLD_TYPES: Readonly<Record<string, NotificationType>> = {
  blog_post_published: 'BLOG_POST_PUBLISHED',
  comment_added: 'COMMENT_ADDED',
  comment_approved: 'COMMENT_APPROVED',
  post_liked: 'POST_LIKED',
  system_alert: 'SYSTEM_ALERT',
};

/** Herald's enum value of an old type name (case-insensitive; the enum spelling is accepted too), or null. */
export function notificationTypeOf(name: unknown): NotificationType | null {
  if (typeof name !== 'string') return null;
  return OLD_TYPES[name.toLowerCase()] ?? null;
}

/** The old name of a notification type: `BLOG_POST_PUBLISHED` → `blog_post_published`. */
export const oldTypeName = (type: NotificationType): string => type.toLowerCase();

/** `postId` → `post_id`: the old field names of everything Herald names in camelCase. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** A JSON object's keys in snake_case, one level deep (notification `data`: `{postId}` → `{post_id}`). */
export function snakeKeys(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [snakeCase(key), inner]));
}

/**
 * Parses a client frame: a JSON object with a string `type`. Returns the message, or the text of the
 * `error` to answer with (the old server's 'Invalid JSON format' for anything that is not JSON).
 */
export function parseClientMessage(text: string): { readonly type: string; readonly [field: string]: unknown } | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'Invalid JSON format';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'Invalid message: expected a JSON object';
  const type = (value as Record<string, unknown>).type;
  if (typeof type !== 'string' || type.length === 0) return 'Invalid message: missing field "type"';
  return value as { type: string };
}
