import { z } from 'zod';
import { hashValue } from '../core/index.ts';
import { formatPath, zodOutputSchema } from '../spec/index.ts';
import { withBuiltinFunctions } from './builtin-functions.ts';
import { checkNodes } from './check-nodes.ts';
import { compileFields } from './compile-fields.ts';
import { compileNodeOutputs } from './compile-node-outputs.ts';
import { createCompileState, type CompileState } from './compile-state.ts';
import type { CompiledNode, CompiledWorkflow } from './compiled-workflow.ts';
import { findNeededNodes } from './find-needed-nodes.ts';
import { orderNodes } from './order-nodes.ts';
import { parseReference, type Reference } from './parse-reference.ts';
import { WorkflowDefinitionError } from './workflow-definition-error.ts';
import {
  workflowDefinitionSchema,
  type NodeDefinition,
  type WorkflowDefinition,
  type WorkflowFunctions,
} from './workflow-definition.ts';

export type { CompiledField, CompiledNode, CompiledWorkflow } from './compiled-workflow.ts';
export { findCycle } from './order-nodes.ts';

const defaultConcurrency = 8;
const defaultMaxVersions = 1_000;
const defaultBlobThresholdBytes = 65_536;

/**
 * Checks a definition completely (shape, references, permissions, binding types, cycles,
 * gates) and returns it ready to run, or throws a `WorkflowDefinitionError` listing every
 * problem with its path.
 *
 * The sections, each in its own module and in this order (later ones read what earlier ones
 * found): the shape (zod), the context (`compile-fields.ts`), node functions and output schemas
 * (`compile-node-outputs.ts`), each node's bindings, reads, writes and policy (`check-nodes.ts`,
 * references in `check-bindings.ts`), the order between nodes (`order-nodes.ts`), and the
 * outputs with the nodes they need (`find-needed-nodes.ts`).
 *
 * @example
 * const compiled = compileWorkflow(defineWorkflow({ ... }), { transforms: { pick: (input) => input } });
 */
export function compileWorkflow(
  definition: WorkflowDefinition,
  registered: WorkflowFunctions = {},
): CompiledWorkflow {
  const workflowId =
    typeof (definition as { id?: unknown }).id === 'string' ? (definition as { id: string }).id : '(unnamed)';
  const parsed = workflowDefinitionSchema.safeParse(definition);
  if (!parsed.success) {
    throw new WorkflowDefinitionError(
      workflowId,
      parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  const state = createCompileState(definition, withBuiltinFunctions(registered));
  compileFields(state);
  compileNodeOutputs(state);
  checkNodes(state);
  orderNodes(state);
  const needed = findNeededNodes(state);
  if (state.problems.length > 0) throw new WorkflowDefinitionError(workflowId, state.problems);
  return {
    id: definition.id,
    version: definition.version,
    hash: hashValue(toHashable(definition)),
    definition,
    fields: state.fields,
    nodes: compiledNodes(state),
    needed,
    rules: state.rules,
    concurrency: definition.concurrency ?? defaultConcurrency,
    maxVersions: definition.context.history?.maxVersions ?? defaultMaxVersions,
    blobThresholdBytes: definition.context.blobThresholdBytes ?? defaultBlobThresholdBytes,
  };
}

function compiledNodes(state: CompileState): Map<string, CompiledNode> {
  const nodes = new Map<string, CompiledNode>();
  state.nodeIds.forEach((id, order) => {
    const node = state.definition.nodes[id] as NodeDefinition;
    nodes.set(id, {
      id,
      definition: node,
      order,
      priority: node.priority ?? 0,
      deps: state.deps.get(id) as Set<string>,
      joins: state.joins.get(id) as Set<string>,
      reads: state.readsOf.get(id) ?? new Set(),
      writes: Object.entries(node.writes ?? {}).map(([field, source]) => {
        const reference = parseReference(source) as Reference;
        return { field, path: reference.path };
      }),
      outputSchema: state.outputSchemas.get(id),
      chosenBy: state.chosenBy.get(id),
      gates: state.gatesOf.get(id) ?? [],
      transform: state.transforms.get(id),
      gate: state.gateChecks.get(id),
      conditions: state.conditions.get(id) ?? [],
      itemTransform: state.itemTransforms.get(id),
    });
  });
  return nodes;
}

/** Functions by their source and zod schemas by their JSON Schema, so the hash sees changes. */
function toHashable(value: unknown): unknown {
  if (typeof value === 'function') return `function:${value.toString()}`;
  if (value instanceof z.ZodType) return { zod: zodOutputSchema(value).jsonSchema };
  if (Array.isArray(value)) return value.map(toHashable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toHashable(item)]));
  }
  return value;
}
