import { z } from 'zod';

/** A JSON Schema as written in YAML (`{ type: string, minLength: 1 }`). */
export type JsonSchema = Record<string, unknown>;

/** A field or output schema: JSON Schema (YAML) or zod (TypeScript). */
export type FieldSchema = JsonSchema | z.ZodType;

/**
 * A value bound into a node: strings starting with `$` are references (`$context.brief`,
 * `$context.brand.colors[0]`, `$nodes.audiences.output`, `$item`, `$index` inside a map), `$$`
 * escapes a literal `$`; objects and arrays are walked; everything else is a literal.
 */
export type Binding = unknown;

/** A node's view of the context: the snapshot of its start version, within its read permissions. */
export interface ContextReader {
  /** The version this reader sees. */
  readonly version: number;
  /** A field's value (loading it from the blob store when kept by reference). */
  get(field: string): Promise<unknown>;
}

/** What every node function receives besides its input. */
export interface NodeCallContext {
  runId: string;
  nodeId: string;
  tenantId: string;
  /** 1 on the first try; re-runs by a retry policy or a gate increase it. */
  attempt: number;
  /** `runId:nodeId:attempt`: the same on a resumed re-issue of an interrupted attempt. */
  idempotencyKey: string;
  /** Reads the context snapshot of the node's start version, within its read permissions. */
  context: ContextReader;
  /** Adjusted parameters of this attempt (see `onError.adjust`). */
  parameters: Record<string, unknown>;
  /** Reasons a gate gave when it asked for this re-run. */
  feedback: string[];
  signal: AbortSignal;
}

/** A registered TypeScript function run by a `transform` node. */
export type TransformFunction = (input: unknown, call: NodeCallContext) => unknown;

/** A gate's verdict: the interface the quality-gates layer fills. */
export interface GateVerdict {
  pass: boolean;
  score?: number;
  reasons?: string[];
}

export type GateFunction = (value: unknown, call: NodeCallContext) => GateVerdict | Promise<GateVerdict>;
export type ConditionFunction = (input: unknown, call: NodeCallContext) => boolean | Promise<boolean>;
/** A validation rule over the whole context snapshot: true, or the problem. */
export type ValidatorFunction = (values: Readonly<Record<string, unknown>>) => true | string;

/** Functions named by YAML definitions, registered with the runner. */
export interface WorkflowFunctions {
  transforms?: Record<
    string,
    TransformFunction | { run: TransformFunction; input?: FieldSchema; output?: FieldSchema }
  >;
  gates?: Record<string, GateFunction>;
  conditions?: Record<string, ConditionFunction>;
  validators?: Record<string, ValidatorFunction>;
}

export interface ContextFieldDefinition {
  /** JSON Schema (YAML) or zod; absent means any JSON value. */
  schema?: FieldSchema;
  default?: unknown;
  group?: string;
  description?: string;
  /** Node ids allowed to read / write this field (absent: every node). */
  access?: { read?: string[]; write?: string[] };
}

export interface ValidationRuleDefinition {
  id: string;
  /** A registered validator name, or the function itself (TypeScript). */
  check: string | ValidatorFunction;
  message?: string;
}

export interface ContextSchemaDefinition {
  fields: Record<string, ContextFieldDefinition>;
  rules?: ValidationRuleDefinition[];
  history?: { maxVersions?: number };
  /** Values whose JSON is larger than this many bytes are kept by reference (default 65,536). */
  blobThresholdBytes?: number;
}

export interface FailurePolicy {
  /** fail the run (default), continue with partial results, retry, or run a substitute node. */
  action: 'fail' | 'continue' | 'retry' | 'substitute';
  /** For retry: total attempts including the first (default 3). */
  maxAttempts?: number;
  /** For retry: the wait before each new attempt, in ms (default 0). */
  backoffMs?: number;
  /** For retry: overrides per attempt (attempt 2 takes the first, later ones the last). */
  adjust?: Array<{ modelGroup?: string; parameters?: Record<string, unknown> }>;
  /** For substitute: a `standby` node run in this node's place. */
  node?: string;
  /** For retry: what to do when attempts run out: fail (default) or continue. */
  then?: 'fail' | 'continue';
}

interface NodeBase {
  /** Explicit all-of dependencies, besides those implied by references and context reads. */
  after?: string[];
  /** Higher runs first among ready nodes (default 0). */
  priority?: number;
  /** Read permission: field names, `group:NAME` or `*`. Absent: the fields its bindings reference. */
  reads?: string[];
  /** Context writes: field → `$output` or `$output.path`. */
  writes?: Record<string, string>;
  onError?: FailurePolicy;
  /** Runs even when no declared output needs it (side effects). */
  always?: boolean;
  /** Runs only as another node's substitute. */
  standby?: boolean;
  description?: string;
}

export interface ModelNodeDefinition extends NodeBase {
  type: 'model';
  /** A registered step type, run through `engine.run`. */
  stepType?: string;
  /** For a chat call: the model group; for a step type: an override of its default group. */
  modelGroup?: string;
  input?: Binding;
  /** For a chat call: the user message, with `{{input.x}}` placeholders. */
  prompt?: string;
  system?: string;
  /** For a chat call: request parameters (temperature, max_tokens…). */
  parameters?: Record<string, unknown>;
  /** For a chat call: `json` parses the answer as JSON. */
  responseFormat?: 'text' | 'json';
  /** The output's schema, for binding type checks. */
  output?: FieldSchema;
}

export interface TransformNodeDefinition extends NodeBase {
  type: 'transform';
  fn: string | TransformFunction;
  input?: Binding;
  output?: FieldSchema;
  parameters?: Record<string, unknown>;
}

export type BranchCondition =
  | {
      ref: string;
      equals?: unknown;
      notEquals?: unknown;
      in?: unknown[];
      gt?: number;
      gte?: number;
      lt?: number;
      lte?: number;
      exists?: boolean;
      truthy?: boolean;
    }
  | { fn: string | ConditionFunction; input?: Binding };

export interface BranchNodeDefinition extends NodeBase {
  type: 'branch';
  /** The first case whose condition holds chooses its nodes; the others' nodes are skipped. */
  cases: Array<{ when: BranchCondition; then: string[] }>;
  otherwise?: string[];
}

export type MapItemDefinition =
  Omit<ModelNodeDefinition, keyof NodeBase> | Omit<TransformNodeDefinition, keyof NodeBase>;

export interface MapNodeDefinition extends NodeBase {
  type: 'map';
  /** A reference to a list. */
  over: string;
  /** Items run at once (default 4). */
  concurrency?: number;
  /** Run once per item; `$item` and `$index` are bound. */
  node: MapItemDefinition;
}

export interface GateNodeDefinition extends NodeBase {
  type: 'gate';
  /** The node whose output is checked. Nodes depending on it also wait for the gate. */
  target: string;
  check: string | GateFunction;
  /** What is checked (default `$nodes.<target>.output`). */
  input?: Binding;
  /** Minimum score to pass, when the check returns one. */
  threshold?: number;
  /** reject fails the gate (the gate's onError applies), flag passes with a flag, rerun re-runs the target. */
  onFail?: 'reject' | 'flag' | 'rerun';
  /** For rerun: re-runs of the target before rejecting (default 2). */
  maxReruns?: number;
  /** Given to the check as `call.parameters` (e.g. `maxLength` for the built-in `text-check`). */
  parameters?: Record<string, unknown>;
}

export interface WaitNodeDefinition extends NodeBase {
  type: 'wait';
  for: string[];
  /** all: barrier; any: the first success wins and the rest are cancelled; settled: waits for every outcome. */
  mode?: 'all' | 'any' | 'settled';
}

export type NodeDefinition =
  | ModelNodeDefinition
  | TransformNodeDefinition
  | BranchNodeDefinition
  | MapNodeDefinition
  | GateNodeDefinition
  | WaitNodeDefinition;

export type NodeType = NodeDefinition['type'];

/**
 * A workflow: a DAG of nodes over a typed, versioned, permissioned context. The same shape is
 * written in YAML (functions by registered name) or TypeScript (functions inline or by name).
 */
export interface WorkflowDefinition {
  id: string;
  version: number;
  description?: string;
  /** Context fields the caller supplies at start (required unless the field has a default). */
  inputs?: string[];
  /** Output name → `$context.field…` or `$nodes.id.output…`. Nodes nothing needs do not run. */
  outputs?: Record<string, string>;
  context: ContextSchemaDefinition;
  nodes: Record<string, NodeDefinition>;
  /** Nodes of one run running at once (default 8). */
  concurrency?: number;
}

/**
 * Declares a workflow in TypeScript; returns it unchanged (checked when compiled or started).
 *
 * @example
 * const flow = defineWorkflow({
 *   id: 'summarize', version: 1, inputs: ['text'], outputs: { summary: '$context.summary' },
 *   context: { fields: { text: { schema: z.string().min(1) }, summary: { schema: z.string() } } },
 *   nodes: {
 *     summarize: { type: 'model', stepType: 'summarize', input: { text: '$context.text' }, writes: { summary: '$output.summary' } },
 *   },
 * });
 */
export function defineWorkflow(definition: WorkflowDefinition): WorkflowDefinition {
  return definition;
}

// ---- the structural schema (zod): shape only; references and types are checked by compileWorkflow.

const identifier = z
  .string()
  .regex(/^[A-Za-z_][\w-]*$/, 'must start with a letter or _ and contain only letters, digits, _ and -');
const functionValue = z.custom<(...args: never[]) => unknown>(
  (value) => typeof value === 'function',
  'must be a function',
);
const functionReference = z.union([z.string().min(1), functionValue]);
const schemaValue = z.custom<FieldSchema>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'must be a JSON Schema object or a zod schema',
);
const nodeList = z.array(identifier);

const nodeBase = {
  after: nodeList.optional(),
  priority: z.number().finite().optional(),
  reads: z.array(z.string().min(1)).optional(),
  writes: z.record(z.string(), z.string()).optional(),
  onError: z
    .strictObject({
      action: z.enum(['fail', 'continue', 'retry', 'substitute']),
      maxAttempts: z.int().min(1).max(100).optional(),
      backoffMs: z.number().min(0).max(3_600_000).optional(),
      adjust: z
        .array(
          z.strictObject({
            modelGroup: z.string().min(1).optional(),
            parameters: z.record(z.string(), z.unknown()).optional(),
          }),
        )
        .optional(),
      node: identifier.optional(),
      then: z.enum(['fail', 'continue']).optional(),
    })
    .optional(),
  always: z.boolean().optional(),
  standby: z.boolean().optional(),
  description: z.string().optional(),
};

const modelFields = {
  stepType: z.string().min(1).optional(),
  modelGroup: z.string().min(1).optional(),
  input: z.unknown().optional(),
  prompt: z.string().min(1).optional(),
  system: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  responseFormat: z.enum(['text', 'json']).optional(),
  output: schemaValue.optional(),
};

const transformFields = {
  fn: functionReference,
  input: z.unknown().optional(),
  output: schemaValue.optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
};

const condition = z.union([
  z.strictObject({
    ref: z.string().startsWith('$'),
    equals: z.unknown().optional(),
    notEquals: z.unknown().optional(),
    in: z.array(z.unknown()).optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    exists: z.boolean().optional(),
    truthy: z.boolean().optional(),
  }),
  z.strictObject({ fn: functionReference, input: z.unknown().optional() }),
]);

const nodeSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('model'), ...nodeBase, ...modelFields }),
  z.strictObject({ type: z.literal('transform'), ...nodeBase, ...transformFields }),
  z.strictObject({
    type: z.literal('branch'),
    ...nodeBase,
    cases: z.array(z.strictObject({ when: condition, then: nodeList })).min(1),
    otherwise: nodeList.optional(),
  }),
  z.strictObject({
    type: z.literal('map'),
    ...nodeBase,
    over: z.string().startsWith('$'),
    concurrency: z.int().min(1).max(1000).optional(),
    node: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('model'), ...modelFields }),
      z.strictObject({ type: z.literal('transform'), ...transformFields }),
    ]),
  }),
  z.strictObject({
    type: z.literal('gate'),
    ...nodeBase,
    target: identifier,
    check: functionReference,
    input: z.unknown().optional(),
    threshold: z.number().finite().optional(),
    onFail: z.enum(['reject', 'flag', 'rerun']).optional(),
    maxReruns: z.int().min(0).max(100).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({
    type: z.literal('wait'),
    ...nodeBase,
    for: nodeList.min(1),
    mode: z.enum(['all', 'any', 'settled']).optional(),
  }),
]);

/** The zod schema of a definition's shape (used by `compileWorkflow` before its semantic checks). */
export const workflowDefinitionSchema = z.strictObject({
  id: identifier,
  version: z.int().min(1),
  description: z.string().optional(),
  inputs: z.array(z.string().min(1)).optional(),
  outputs: z.record(z.string().min(1), z.string().startsWith('$')).optional(),
  context: z.strictObject({
    fields: z.record(
      identifier,
      z.strictObject({
        schema: schemaValue.optional(),
        default: z.unknown().optional(),
        group: z.string().min(1).optional(),
        description: z.string().optional(),
        access: z.strictObject({ read: nodeList.optional(), write: nodeList.optional() }).optional(),
      }),
    ),
    rules: z
      .array(
        z.strictObject({ id: z.string().min(1), check: functionReference, message: z.string().optional() }),
      )
      .optional(),
    history: z.strictObject({ maxVersions: z.int().min(1).optional() }).optional(),
    blobThresholdBytes: z.int().min(64).optional(),
  }),
  nodes: z.record(identifier, nodeSchema),
  concurrency: z.int().min(1).max(10_000).optional(),
});
