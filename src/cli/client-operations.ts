/*
 * The subscriptions `client --test` runs: the same codegen-typed documents as the tests and examples
 * (operations/*.graphql), so a schema change that breaks one fails type-checking here too.
 */
import { print } from 'graphql';
import {
  OnAnalyticsDashboardDocument,
  OnCommentAddedDocument,
  OnCommentApprovedDocument,
  OnHealthDocument,
  OnNotificationsDocument,
  OnPostStatsDocument,
  OnPostUpdatedDocument,
  OnTypingDocument,
} from '../generated/graphql/graphql.js';

export type ClientTest = 'notifications' | 'post' | 'comments' | 'analytics' | 'health';
export const CLIENT_TESTS: readonly (ClientTest | 'all')[] = ['notifications', 'post', 'comments', 'analytics', 'health', 'all'];

export interface ClientOperation {
  /** The subscription field, printed before each event. */
  readonly name: string;
  readonly test: ClientTest;
  readonly query: string;
  readonly needsPostId: boolean;
  readonly needsToken: boolean;
}

export const CLIENT_OPERATIONS: readonly ClientOperation[] = [
  {
    name: 'notifications',
    test: 'notifications',
    needsPostId: false,
    needsToken: true,
    query: print(OnNotificationsDocument),
  },
  {
    name: 'postStats',
    test: 'post',
    needsPostId: true,
    needsToken: false,
    query: print(OnPostStatsDocument),
  },
  {
    name: 'postUpdated',
    test: 'post',
    needsPostId: true,
    needsToken: false,
    query: print(OnPostUpdatedDocument),
  },
  {
    name: 'commentAdded',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    query: print(OnCommentAddedDocument),
  },
  {
    name: 'commentApproved',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    query: print(OnCommentApprovedDocument),
  },
  {
    name: 'typing',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    query: print(OnTypingDocument),
  },
  {
    name: 'analyticsDashboard',
    test: 'analytics',
    needsPostId: false,
    needsToken: true,
    query: print(OnAnalyticsDashboardDocument),
  },
  {
    name: 'health',
    test: 'health',
    needsPostId: false,
    needsToken: false,
    query: print(OnHealthDocument),
  },
];

/** The operations a `--test` value runs. */
export function operationsFor(test: ClientTest | 'all'): ClientOperation[] {
  return CLIENT_OPERATIONS.filter((op) => test === 'all' || op.test === test);
}
