import { getOperationAST, Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';

/** The operation a request runs (graphql-js's own choice for `operationName`), or null. */
export function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | null {
  return getOperationAST(document, operationName ?? undefined) ?? null;
}

/** The name of the operation's first root field (`postUpdated`, `health`...), or null. */
export function rootFieldOf(operation: OperationDefinitionNode | null): string | null {
  const selection = operation?.selectionSet.selections[0];
  return selection?.kind === Kind.FIELD ? selection.name.value : null;
}
