import { checkSchemaAssignable, schemaAtPath } from './check-schema-assignable.ts';
import type { CompileState } from './compile-state.ts';
import { collectReferences, parseReference, type Reference } from './parse-reference.ts';
import type { JsonSchema } from './workflow-definition.ts';

/** Where a reference may point besides the context and other nodes' outputs. */
export interface ReferenceScope {
  /** `$item` and `$index` (inside a map node's node). */
  item?: boolean;
  /** The schema of the map's items, when known. */
  itemSchema?: JsonSchema | undefined;
  /** `$output` (in writes). */
  output?: boolean;
}

/**
 * Checks one reference used by `nodeId` (undefined: the workflow's outputs) at `path`: it must
 * name a known field the node may read, or another (non-standby) node, and its path must exist in
 * the schema it reads. Records the context reads and node dependencies it implies; returns the
 * schema of the value it reads.
 */
export function checkReference(
  state: CompileState,
  nodeId: string | undefined,
  text: string,
  path: string,
  allowed: ReferenceScope,
): JsonSchema | undefined {
  const reference = parseReference(text);
  if (typeof reference === 'string') {
    state.report(path, reference);
    return undefined;
  }
  return referenceSchema(state, nodeId, reference, path, allowed);
}

function referenceSchema(
  state: CompileState,
  nodeId: string | undefined,
  reference: Reference,
  path: string,
  allowed: ReferenceScope,
): JsonSchema | undefined {
  const base = baseSchema(state, nodeId, reference, path, allowed);
  if (base === false) return undefined;
  const at = schemaAtPath(base, reference.path);
  if (typeof at === 'string') {
    state.report(path, `${reference.text}: ${at}`);
    return undefined;
  }
  return at;
}

/** The schema of what the reference's head names; false when it names nothing usable (reported). */
function baseSchema(
  state: CompileState,
  nodeId: string | undefined,
  reference: Reference,
  path: string,
  allowed: ReferenceScope,
): JsonSchema | undefined | false {
  const { definition, report } = state;
  switch (reference.kind) {
    case 'context': {
      const field = state.fields.get(reference.field);
      if (field === undefined) {
        report(path, `unknown context field "${reference.field}" in ${reference.text}`);
        return false;
      }
      if (nodeId !== undefined) {
        state.boundReads.get(nodeId)?.add(reference.field);
        if (field.readers !== undefined && !field.readers.has(nodeId))
          report(
            path,
            `node ${nodeId} may not read context field "${reference.field}" (access.read lists ${[...field.readers].join(', ') || 'no node'})`,
          );
      }
      return field.jsonSchema;
    }
    case 'node': {
      if (!(reference.node in definition.nodes)) {
        report(path, `unknown node "${reference.node}" in ${reference.text}`);
        return false;
      }
      if (reference.node === nodeId) {
        report(path, `node ${nodeId} cannot read its own output`);
        return false;
      }
      if (state.standby.has(reference.node)) {
        report(
          path,
          `node "${reference.node}" is a standby node; read the output of the node it substitutes`,
        );
        return false;
      }
      if (nodeId !== undefined) state.deps.get(nodeId)?.add(reference.node);
      return state.outputSchemas.get(reference.node);
    }
    case 'item':
    case 'index':
      if (allowed.item !== true) {
        report(path, `${reference.text} is only bound inside a map node's node`);
        return false;
      }
      return reference.kind === 'index' ? { type: 'integer' } : allowed.itemSchema;
    case 'output':
      if (allowed.output !== true) {
        report(path, `${reference.text}: $output is only used in writes`);
        return false;
      }
      return nodeId === undefined ? undefined : state.outputSchemas.get(nodeId);
  }
}

/**
 * Checks a node's binding (a reference, an object of bindings, or a literal that may embed
 * references) against the schema its consumer expects, field by field.
 */
export function checkBinding(
  state: CompileState,
  nodeId: string,
  binding: unknown,
  path: string,
  expected: JsonSchema | undefined,
  allowed: ReferenceScope,
): void {
  if (typeof binding === 'string' && binding.startsWith('$') && !binding.startsWith('$$')) {
    const reference = parseReference(binding);
    if (typeof reference === 'string') return void state.report(path, reference);
    const actual = referenceSchema(state, nodeId, reference, path, allowed);
    const mismatch = checkSchemaAssignable(actual, expected);
    if (mismatch !== null) state.report(path, `${binding} does not fit the expected input: ${mismatch}`);
    return;
  }
  if (binding !== null && typeof binding === 'object' && !Array.isArray(binding)) {
    const properties =
      expected !== undefined && typeof expected.properties === 'object' && expected.properties !== null
        ? (expected.properties as Record<string, JsonSchema>)
        : {};
    for (const [key, value] of Object.entries(binding))
      checkBinding(state, nodeId, value, `${path}.${key}`, properties[key], allowed);
    return;
  }
  for (const reference of collectReferences(binding, path)) {
    const parsed = parseReference(reference.text);
    if (typeof parsed === 'string') state.report(reference.path, parsed);
    else referenceSchema(state, nodeId, parsed, reference.path, allowed);
  }
}
