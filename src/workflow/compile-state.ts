import { z } from 'zod';
import { createAjv, jsonOutputSchema, zodOutputSchema } from '../spec/index.ts';
import { builtinFunctions } from './builtin-functions.ts';
import type { CompiledField } from './compiled-workflow.ts';
import type { DefinitionProblem } from './workflow-definition-error.ts';
import type {
  ConditionFunction,
  FieldSchema,
  GateFunction,
  JsonSchema,
  TransformFunction,
  ValidatorFunction,
  WorkflowDefinition,
  WorkflowFunctions,
} from './workflow-definition.ts';

/**
 * What the sections of `compileWorkflow` build up and share: the definition (its shape already
 * checked), the problems found so far (every one is reported, not just the first), and the graph
 * and function tables each section fills for the next ones.
 */
export interface CompileState {
  readonly definition: WorkflowDefinition;
  /** The registered functions with the built-in ones. */
  readonly functions: WorkflowFunctions;
  readonly ajv: ReturnType<typeof createAjv>;
  readonly problems: DefinitionProblem[];
  report(path: string, message: string): void;
  readonly nodeIds: readonly string[];
  /** Nodes declared `standby: true` (they run only as substitutes). */
  readonly standby: ReadonlySet<string>;

  // ---- context (compile-fields.ts)
  readonly fields: Map<string, CompiledField>;
  /** Field groups by name: the fields of each. */
  readonly groups: Map<string, string[]>;
  readonly rules: Array<{ id: string; check: ValidatorFunction; message: string | undefined }>;

  // ---- node functions and output schemas (compile-node-outputs.ts)
  readonly outputSchemas: Map<string, JsonSchema | undefined>;
  readonly inputSchemas: Map<string, JsonSchema | undefined>;
  readonly itemInputSchemas: Map<string, JsonSchema | undefined>;
  readonly transforms: Map<string, TransformFunction>;
  readonly itemTransforms: Map<string, TransformFunction>;
  readonly gateChecks: Map<string, GateFunction>;
  readonly conditions: Map<string, Array<ConditionFunction | undefined>>;

  // ---- the graph (check-nodes.ts, order-nodes.ts)
  /** All-of dependencies of each node. */
  readonly deps: Map<string, Set<string>>;
  /** For `wait` any / settled: the nodes each joins. */
  readonly joins: Map<string, Set<string>>;
  /** Fields each node may read (`*` for every field). */
  readonly readsOf: Map<string, Set<string> | '*'>;
  /** Fields each node binds with `$context.…` references. */
  readonly boundReads: Map<string, Set<string>>;
  /** For each field, the nodes that write it. */
  readonly writers: Map<string, string[]>;
  /** For each branch target, the branch and the cases that choose it. */
  readonly chosenBy: Map<string, { branch: string; cases: Set<number> }>;
  /** For each node, the gates whose target it is. */
  readonly gatesOf: Map<string, string[]>;
}

export function createCompileState(
  definition: WorkflowDefinition,
  functions: WorkflowFunctions,
): CompileState {
  const problems: DefinitionProblem[] = [];
  const nodeIds = Object.keys(definition.nodes);
  const perNode = <T>(make: () => T) => new Map<string, T>(nodeIds.map((id) => [id, make()]));
  return {
    definition,
    functions,
    ajv: createAjv(),
    problems,
    report: (path, message) => problems.push({ path, message }),
    nodeIds,
    standby: new Set(nodeIds.filter((id) => definition.nodes[id]?.standby === true)),
    fields: new Map(),
    groups: new Map(),
    rules: [],
    outputSchemas: new Map(),
    inputSchemas: new Map(),
    itemInputSchemas: new Map(),
    transforms: new Map(),
    itemTransforms: new Map(),
    gateChecks: new Map(),
    conditions: new Map(),
    deps: perNode(() => new Set<string>()),
    joins: perNode(() => new Set<string>()),
    readsOf: new Map(),
    boundReads: perNode(() => new Set<string>()),
    writers: new Map(),
    chosenBy: new Map(),
    gatesOf: perNode((): string[] => []),
  };
}

export function isZod(schema: FieldSchema): schema is z.ZodType {
  return schema instanceof z.ZodType;
}

/** A field or output schema as JSON Schema (zod converted); an invalid one is reported at `path`. */
export function schemaOf(
  state: CompileState,
  schema: FieldSchema | undefined,
  path: string,
): JsonSchema | undefined {
  if (schema === undefined) return undefined;
  try {
    return isZod(schema)
      ? zodOutputSchema(schema).jsonSchema
      : (jsonOutputSchema(schema, state.ajv, path).jsonSchema as JsonSchema);
  } catch (error) {
    state.report(path, (error as Error).message);
    return undefined;
  }
}

/** ` (registered: a, b)` or ` (none are)`: the names a problem about an unknown function lists. */
export function listNames(registry: Record<string, unknown> | undefined): string {
  const builtin = new Set([
    ...Object.keys(builtinFunctions.transforms ?? {}),
    ...Object.keys(builtinFunctions.gates ?? {}),
  ]);
  const names = Object.keys(registry ?? {}).filter((name) => !builtin.has(name));
  return names.length === 0 ? ' (none are)' : ` (registered: ${names.join(', ')})`;
}

/** All-of dependencies and joins of a node: the edges of the graph. */
export function edgesOf(state: CompileState, id: string): string[] {
  return [...(state.deps.get(id) ?? []), ...(state.joins.get(id) ?? [])];
}
