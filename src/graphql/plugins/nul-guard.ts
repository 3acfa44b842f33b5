import { Kind, getOperationAST, type ArgumentNode, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../../shared/errors.js';

const NUL = '\u0000';

/**
 * Where a NUL character hides in the operation about to run: the name of the innermost argument or
 * input field holding it, or null. Every string counts (String, ID, and custom scalars such as JSON,
 * whose object keys count too): PostgreSQL `text` and `jsonb` cannot store NUL, so such input would
 * otherwise reach the database and fail there as an internal error. Literals in the document, variable
 * values and variable defaults are all searched, inside lists and input objects, in the executed
 * operation and in every fragment.
 */
export function nulInputField(document: DocumentNode, operationName: string | null | undefined, variables: Readonly<Record<string, unknown>> | null | undefined): string | null {
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  for (const argument of argumentsOf(document, operation)) {
    const found = inLiteral(argument.value, argument.name.value, operation, variables);
    if (found) return found;
  }
  return null;
}

/** Iterative, like inJson; a variable is searched in its value, or in its default when none was sent. */
function inLiteral(root: ValueNode, rootName: string, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | null | undefined): string | null {
  if (root.kind === Kind.STRING) return root.value.includes(NUL) ? rootName : null;
  const stack: [ValueNode, string][] = [[root, rootName]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, name] = item;
    switch (node.kind) {
      case Kind.STRING:
        if (node.value.includes(NUL)) return name;
        break;
      case Kind.LIST:
        for (const value of node.values) stack.push([value, name]);
        break;
      case Kind.OBJECT:
        for (const field of node.fields) stack.push([field.value, field.name.value]);
        break;
      case Kind.VARIABLE: {
        const variable = node.name.value;
        const supplied = variables?.[variable];
        if (supplied !== undefined) {
          const found = inJson(supplied, name);
          if (found) return found;
        } else {
          const fallback = operation.variableDefinitions?.find((d) => d.variable.name.value === variable)?.defaultValue;
          if (fallback) stack.push([fallback, name]);
        }
        break;
      }
      default:
        break;
    }
  }
  return null;
}

/** Yoga's parser cache hands the same document to every request of one query: collect its arguments once. */
const argumentCache = new WeakMap<OperationDefinitionNode, readonly ArgumentNode[]>();

/** Every argument (of fields and directives) in the operation and in the document's fragments. */
function argumentsOf(document: DocumentNode, operation: OperationDefinitionNode): readonly ArgumentNode[] {
  let found = argumentCache.get(operation);
  if (found) return found;
  const collected: ArgumentNode[] = [];
  const sets: SelectionSetNode[] = [];
  for (const definition of document.definitions) {
    if (definition === operation || definition.kind === Kind.FRAGMENT_DEFINITION) {
      for (const directive of definition.directives ?? []) collected.push(...(directive.arguments ?? []));
      sets.push(definition.selectionSet);
    }
  }
  for (let set = sets.pop(); set; set = sets.pop()) {
    for (const selection of set.selections) {
      for (const directive of selection.directives ?? []) collected.push(...(directive.arguments ?? []));
      if (selection.kind === Kind.FIELD) collected.push(...(selection.arguments ?? []));
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet) sets.push(selection.selectionSet);
    }
  }
  found = collected;
  argumentCache.set(operation, found);
  return found;
}

/** Iterative, so a deeply nested JSON variable cannot overflow the stack. */
function inJson(root: unknown, rootName: string): string | null {
  if (typeof root === 'string') return root.includes(NUL) ? rootName : null;
  const stack: [unknown, string][] = [[root, rootName]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, name] = item;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return name;
    } else if (Array.isArray(value)) {
      for (const element of value) stack.push([element, name]);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key.includes(NUL)) return name;
        stack.push([child, key]);
      }
    }
  }
  return null;
}

/**
 * Refuses any operation whose input contains a NUL character with `BAD_USER_INPUT` (and `field`) before
 * it runs, so no resolver, present or future, has to remember to. It hooks execute and subscribe, which
 * every transport goes through (HTTP, SSE, and WebSocket through Yoga's enveloped functions).
 */
export function nulGuardPlugin(): Plugin<Record<string, unknown>> {
  const refusal = (field: string) => ({ errors: [badInput(`${field} must not contain NUL characters`, field)] });
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const field = nulInputField(args.document, args.operationName, args.variableValues);
      if (field) setResultAndStopExecution(refusal(field));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const field = nulInputField(args.document, args.operationName, args.variableValues);
      if (field) setResultAndStopExecution(refusal(field));
    },
  };
}
