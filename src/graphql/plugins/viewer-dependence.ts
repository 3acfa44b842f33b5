import SchemaBuilder, { BasePlugin, type FieldNullability, type InputFieldMap, type PothosOutputFieldConfig, type SchemaTypes, type TypeParam } from '@pothos/core';
import {
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { operationOf } from '../operation.js';

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      viewerDependence: ViewerDependencePlugin<Types>;
    }
    interface FieldOptions<Types extends SchemaTypes, ParentShape, Type extends TypeParam<Types>, Nullable extends FieldNullability<Type>, Args extends InputFieldMap, ResolveShape, ResolveReturnShape> {
      /**
       * The value depends on who asks: the resolver reads `ctx.viewer` (itself or through a service),
       * or the value is the viewer's own state. A subscription selecting such a field is executed per
       * viewer; any other is executed once for every subscriber of its shape, in a context where
       * reading the viewer is an error (an undeclared read fails instead of leaking one viewer's data).
       */
      viewerDependent?: boolean;
    }
  }
}

/** Where the declaration ends up on the built field (`GraphQLField.extensions`). */
const EXTENSION = 'viewerDependent';

/** Copies each field's `viewerDependent` option onto the built schema, where the shared execution reads it. */
export class ViewerDependencePlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const declared = (fieldConfig.pothosOptions as { viewerDependent?: boolean }).viewerDependent === true;
    if (!declared) return fieldConfig;
    return { ...fieldConfig, extensions: { ...fieldConfig.extensions, [EXTENSION]: true } };
  }
}

const pluginName = 'viewerDependence' as const;
SchemaBuilder.registerPlugin(pluginName, ViewerDependencePlugin);
/** The plugin's name, for the builder's `plugins` list. */
export default pluginName;

/** True when the field declared `viewerDependent`, or is guarded by scope-auth (whose answer depends on the viewer). */
export function isViewerDependent(field: GraphQLField<unknown, unknown>, parent: GraphQLNamedType): boolean {
  return field.extensions?.[EXTENSION] === true || guardedByScopes(field) || guardedByScopes(parent);
}

/**
 * True when the operation selects (anywhere, fragments included, @skip/@include ignored) a field that
 * depends on the viewer. Unknown shapes count as dependent: sharing less is always safe.
 */
export function selectsViewerDependentField(schema: GraphQLSchema, document: DocumentNode, operationName: string | null): boolean {
  const operation = operationOf(document, operationName);
  const rootType = operation ? schema.getRootType(operation.operation) : null;
  if (!operation || !rootType) return true;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const visiting = new Set<string>();

  const walk = (type: GraphQLCompositeType, selectionSet: SelectionSetNode): boolean => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) continue;
        const candidates = isAbstractType(type) ? schema.getPossibleTypes(type) : [type];
        for (const candidate of candidates) {
          if (!isObjectType(candidate)) return true;
          const field = candidate.getFields()[name];
          if (!field) continue; // selected on another member of the union/interface
          if (isViewerDependent(field, candidate)) return true;
          const fieldType = getNamedType(field.type);
          if (selection.selectionSet && isComposite(fieldType) && walk(fieldType, selection.selectionSet)) return true;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (!condition || !isComposite(condition)) return true;
        if (walk(condition, selection.selectionSet)) return true;
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) return true;
        if (visiting.has(fragment.name.value)) continue;
        visiting.add(fragment.name.value);
        const condition = schema.getType(fragment.typeCondition.name.value);
        if (!condition || !isComposite(condition) || walk(condition, fragment.selectionSet)) return true;
      }
    }
    return false;
  };
  return walk(rootType, operation.selectionSet);
}

/** Pothos keeps a field's or type's options (authScopes included) in its extensions. */
function guardedByScopes(element: GraphQLField<unknown, unknown> | GraphQLNamedType): boolean {
  const options = (element.extensions as { pothosOptions?: { authScopes?: unknown; grantScopes?: unknown } } | undefined)?.pothosOptions;
  return options?.authScopes !== undefined || options?.grantScopes !== undefined;
}

function isComposite(type: GraphQLNamedType): type is GraphQLCompositeType {
  return isObjectType(type) || isAbstractType(type);
}
