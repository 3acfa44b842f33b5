import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import '../modules/users/user.schema.js';
import '../modules/auth/auth.schema.js';
import '../modules/posts/post.schema.js';
import '../modules/health/health.schema.js';
import '../modules/connections/connection-stats.schema.js';
import '../modules/analytics/analytics.schema.js';
import '../modules/notifications/notification.schema.js';
import '../modules/comments/comment.schema.js';
import '../modules/comments/typing.schema.js';

/** The whole schema; importing this module defines every type exactly once. */
export const schema: GraphQLSchema = builder.toSchema({ sortSchema: true });

/** The committed SDL (`schema/schema.graphql`): sorted so diffs show real changes only. */
export function printSchemaSdl(): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
