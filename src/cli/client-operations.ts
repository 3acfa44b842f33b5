/*
 * The subscriptions `client --test` runs: the same codegen-typed documents as the tests and examples
 * (operations/*.graphql), so a schema change that breaks one fails type-checking here too.
 */
import { getOperationAST, print, type DocumentNode } from 'graphql';
import { documentIdOf } from '../shared/document-id.js';
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
  /** The trusted-document id codegen gave the same document (sent instead of `query` with --ws-document-ids). */
  readonly documentId: string;
  readonly operationName: string | undefined;
  readonly needsPostId: boolean;
  readonly needsToken: boolean;
}

export const CLIENT_OPERATIONS: readonly ClientOperation[] = [
  {
    name: 'notifications',
    test: 'notifications',
    needsPostId: false,
    needsToken: true,
    ...sent(OnNotificationsDocument),
  },
  {
    name: 'postStats',
    test: 'post',
    needsPostId: true,
    needsToken: false,
    ...sent(OnPostStatsDocument),
  },
  {
    name: 'postUpdated',
    test: 'post',
    needsPostId: true,
    needsToken: false,
    ...sent(OnPostUpdatedDocument),
  },
  {
    name: 'commentAdded',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    ...sent(OnCommentAddedDocument),
  },
  {
    name: 'commentApproved',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    ...sent(OnCommentApprovedDocument),
  },
  {
    name: 'typing',
    test: 'comments',
    needsPostId: true,
    needsToken: false,
    ...sent(OnTypingDocument),
  },
  {
    name: 'analyticsDashboard',
    test: 'analytics',
    needsPostId: false,
    needsToken: true,
    ...sent(OnAnalyticsDashboardDocument),
  },
  {
    name: 'health',
    test: 'health',
    needsPostId: false,
    needsToken: false,
    ...sent(OnHealthDocument),
  },
];

function sent(document: DocumentNode): Pick<ClientOperation, 'query' | 'documentId' | 'operationName'> {
  return { query: print(document), documentId: documentIdOf(document), operationName: getOperationAST(document)?.name?.value };
}

/** The operations a `--test` value runs. */
export function operationsFor(test: ClientTest | 'all'): ClientOperation[] {
  return CLIENT_OPERATIONS.filter((op) => test === 'all' || op.test === test);
}
