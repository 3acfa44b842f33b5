import { Kind, visit, type DocumentNode, type GraphQLSchema } from 'graphql';
import { operationOf } from '../operation.js';

/**
 * Where an argument declares (`extensions: { startOnly: true }`, as every subscription's `after` does) that
 * it only decides where a subscription starts, never what an event's result is.
 */
export const START_ONLY_EXTENSION = 'startOnly';

const NONE: ReadonlySet<string> = new Set();

/**
 * The variables of a subscription that feed only start-only arguments of its root fields. They are left out
 * of the sharing key: subscribers resumed from different cursors still share each live event's execution.
 * A variable used anywhere else (a nested field's argument, a directive) stays in the key.
 */
export function startOnlyVariables(schema: GraphQLSchema, document: DocumentNode, operationName: string | null): ReadonlySet<string> {
  const operation = operationOf(document, operationName);
  const root = schema.getSubscriptionType();
  if (!operation || operation.operation !== 'subscription' || !root) return NONE;
  const startOnlyUses = new Map<string, number>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const field = root.getFields()[selection.name.value];
    for (const argument of selection.arguments ?? []) {
      const definition = field?.args.find((arg) => arg.name === argument.name.value);
      if (definition?.extensions?.[START_ONLY_EXTENSION] !== true || argument.value.kind !== Kind.VARIABLE) continue;
      const name = argument.value.name.value;
      startOnlyUses.set(name, (startOnlyUses.get(name) ?? 0) + 1);
    }
  }
  if (startOnlyUses.size === 0) return NONE;
  const allUses = new Map<string, number>();
  visit(document, {
    // A variable's own definition is not a use.
    VariableDefinition: () => false,
    Variable(node) {
      allUses.set(node.name.value, (allUses.get(node.name.value) ?? 0) + 1);
    },
  });
  return new Set([...startOnlyUses].filter(([name, uses]) => allUses.get(name) === uses).map(([name]) => name));
}
