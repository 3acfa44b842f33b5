import { Kind, getOperationAST, visit, BREAK, type DocumentNode, type ValueNode } from 'graphql';
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
  const defaults = new Map<string, ValueNode | undefined>(operation.variableDefinitions?.map((d) => [d.variable.name.value, d.defaultValue]) ?? []);

  const inLiteral = (root: ValueNode, rootName: string): string | null => {
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
            const fallback = defaults.get(variable);
            if (fallback) stack.push([fallback, name]);
          }
          break;
        }
        default:
          break;
      }
    }
    return null;
  };

  let found: string | null = null;
  for (const definition of document.definitions) {
    if (definition !== operation && definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    visit(definition, {
      Argument(node) {
        found = inLiteral(node.value, node.name.value);
        // An argument's value holds no further arguments: skip its children either way.
        return found ? BREAK : false;
      },
    });
    if (found) return found;
  }
  return null;
}

/** Iterative, so a deeply nested JSON variable cannot overflow the stack. */
function inJson(root: unknown, rootName: string): string | null {
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
