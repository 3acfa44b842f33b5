import { print, type DocumentNode } from 'graphql';
import { documentIdOf } from '../../shared/document-id.js';
import type { OperationPayload } from '../ws/operation-runner.js';

/**
 * How the old endpoints name their GraphQL operations (operations/legacy-endpoints.graphql) to the
 * OperationRunner: by trusted-document id, so they run with `TRUSTED_DOCUMENTS=only` and are never parsed
 * per message; as text (printed once per document) when `TRUSTED_DOCUMENTS=off` does not understand ids.
 */
export class DocumentPayloads {
  private readonly texts = new WeakMap<DocumentNode, string>();

  constructor(private readonly byId: boolean) {}

  payload(document: DocumentNode, variables: unknown): OperationPayload {
    const vars = (variables ?? null) as Readonly<Record<string, unknown>> | null;
    if (this.byId) return { documentId: documentIdOf(document), variables: vars };
    let query = this.texts.get(document);
    if (query === undefined) {
      query = print(document);
      this.texts.set(document, query);
    }
    return { query, variables: vars };
  }
}
