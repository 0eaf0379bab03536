import type { OutputSchema } from '../spec/index.ts';
import type {
  ConditionFunction,
  GateFunction,
  JsonSchema,
  NodeDefinition,
  TransformFunction,
  ValidatorFunction,
  WorkflowDefinition,
} from './workflow-definition.ts';

// What `compileWorkflow` returns (re-exported by compile-workflow.ts and the folder's index.ts).

/** A context field ready for use: its JSON Schema (for type checks) and a validator. */
export interface CompiledField {
  name: string;
  jsonSchema: JsonSchema | undefined;
  check: OutputSchema<unknown> | undefined;
  hasDefault: boolean;
  default: unknown;
  group: string | undefined;
  readers: ReadonlySet<string> | undefined;
  writers: ReadonlySet<string> | undefined;
}

export interface CompiledNode {
  id: string;
  definition: NodeDefinition;
  /** Index in the definition, the tie-breaker after priority. */
  order: number;
  priority: number;
  /** All-of dependencies (explicit, from references, from context reads, gates on them). */
  deps: ReadonlySet<string>;
  /** For `wait` any / settled: the nodes it joins (not in `deps`). */
  joins: ReadonlySet<string>;
  /** Fields the node may read (`*` for every field). */
  reads: ReadonlySet<string> | '*';
  writes: ReadonlyArray<{ field: string; path: Array<string | number> }>;
  outputSchema: JsonSchema | undefined;
  /** The branch node (and case) that chooses this node, if any. */
  chosenBy: { branch: string; cases: ReadonlySet<number> } | undefined;
  /** Gates whose target is this node. */
  gates: readonly string[];
  transform: TransformFunction | undefined;
  gate: GateFunction | undefined;
  /** For a branch: one per case (`fn` conditions resolved). */
  conditions: ReadonlyArray<ConditionFunction | undefined>;
  /** For a map: the item's transform. */
  itemTransform: TransformFunction | undefined;
}

/** A definition checked and ready to run. */
export interface CompiledWorkflow {
  id: string;
  version: number;
  /** SHA-256 of the definition (functions by their source): a resume refuses a changed one. */
  hash: string;
  definition: WorkflowDefinition;
  fields: ReadonlyMap<string, CompiledField>;
  nodes: ReadonlyMap<string, CompiledNode>;
  /** Nodes some declared output (or an `always` node) needs; the rest are skipped. */
  needed: ReadonlySet<string>;
  rules: ReadonlyArray<{ id: string; check: ValidatorFunction; message: string | undefined }>;
  concurrency: number;
  maxVersions: number;
  blobThresholdBytes: number;
}
