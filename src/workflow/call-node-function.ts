import { stableStringify } from '../core/index.ts';
import type { Engine } from '../engine/index.ts';
import { renderTemplate } from '../spec/index.ts';
import type { ChatMessage } from '../spec/index.ts';
import { isReference, parseReference, readPath, resolveBinding, type Reference } from './parse-reference.ts';
import { createWorkflowError } from './workflow-definition-error.ts';
import type {
  BranchCondition,
  ContextReader,
  ConditionFunction,
  MapItemDefinition,
  NodeCallContext,
  TransformFunction,
} from './workflow-definition.ts';

/** The parts of the engine a workflow calls: step types and chat. */
export type WorkflowEngine = Pick<Engine, 'run' | 'chat'>;

/** What a binding can see besides the context: other nodes' outputs and, in a map, the item. */
export interface BindingScope {
  context: ContextReader;
  nodeOutput: (nodeId: string) => unknown;
  item?: unknown;
  index?: number;
}

/** Resolves a binding against the scope; context values load asynchronously (blobs). */
export async function resolveNodeBinding(binding: unknown, scope: BindingScope): Promise<unknown> {
  const loaded = new Map<string, unknown>();
  const pending: Array<Promise<void>> = [];
  collect(binding, (text) => {
    const reference = parseReference(text);
    if (typeof reference === 'string' || reference.kind !== 'context' || loaded.has(reference.field)) return;
    loaded.set(reference.field, undefined);
    pending.push(scope.context.get(reference.field).then((value) => void loaded.set(reference.field, value)));
  });
  await Promise.all(pending);
  return resolveBinding(binding, (reference) => lookup(reference, scope, loaded));
}

function collect(value: unknown, visit: (text: string) => void): void {
  if (isReference(value)) visit(value);
  else if (Array.isArray(value)) value.forEach((item) => collect(item, visit));
  else if (value !== null && typeof value === 'object')
    Object.values(value).forEach((item) => collect(item, visit));
}

function lookup(reference: Reference, scope: BindingScope, loaded: ReadonlyMap<string, unknown>): unknown {
  switch (reference.kind) {
    case 'context':
      return readPath(loaded.get(reference.field), reference.path);
    case 'node':
      return readPath(scope.nodeOutput(reference.node), reference.path);
    case 'item':
      return readPath(scope.item, reference.path);
    case 'index':
      return scope.index;
    case 'output':
      return undefined;
  }
}

export interface NodeCallResult {
  output: unknown;
  costUsd: number;
  /** The model call was not made: its stored result (paid once, before a crash) was replayed. */
  replayed?: boolean;
  /** Why a completed model call's result could not be stored (a resume would pay for it again). */
  notStored?: string;
}

/** The model's answer and what it cost: what a node's model call stores under its idempotency key. */
export interface ModelCallResult {
  output: unknown;
  costUsd: number;
}

/**
 * Where a run keeps its completed model calls by idempotency key, so a call re-issued after a
 * crash returns the paid result instead of calling the provider again.
 */
export interface ModelCallJournal {
  find(idempotencyKey: string): Promise<ModelCallResult | undefined>;
  save(idempotencyKey: string, result: ModelCallResult): Promise<void>;
}

/** The context a step type's prompt builder sees: the fields the node may read. */
async function readableContext(
  call: NodeCallContext,
  fields: Iterable<string>,
): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    const value = await call.context.get(field);
    if (value !== undefined) values[field] = value;
  }
  if (call.feedback.length > 0) values.feedback = call.feedback;
  return values;
}

/**
 * Runs a model or transform (a node or one map item): the model through the engine with the
 * idempotency key as request id and `idempotency-key` header, the transform as registered.
 */
export async function callNodeFunction(options: {
  definition: MapItemDefinition;
  transform: TransformFunction | undefined;
  engine: WorkflowEngine | undefined;
  input: unknown;
  call: NodeCallContext;
  readableFields: Iterable<string>;
  /** Overrides of this attempt (`onError.adjust`). */
  adjust: { modelGroup?: string; parameters?: Record<string, unknown> };
  /** Completed model calls by idempotency key (none: every call goes to the engine). */
  journal?: ModelCallJournal;
}): Promise<NodeCallResult> {
  const { definition, call } = options;
  if (definition.type === 'transform') {
    if (options.transform === undefined)
      throw createWorkflowError(
        'workflow.definition_invalid',
        `node ${call.nodeId}: its transform is not registered`,
      );
    const output = await options.transform(options.input, {
      ...call,
      parameters: { ...definition.parameters, ...options.adjust.parameters },
    });
    return { output, costUsd: 0 };
  }
  const engine = options.engine;
  if (engine === undefined)
    throw createWorkflowError(
      'workflow.node_failed',
      `node ${call.nodeId} is a model node but the runner has no engine`,
    );
  const journal = options.journal;
  const stored = await journal?.find(call.idempotencyKey);
  let answer: ModelCallResult;
  let notStored: string | undefined;
  if (stored !== undefined) {
    answer = stored;
  } else {
    answer = await callModel(engine, options);
    try {
      // Stored before the node's transition: a crash from here on replays instead of paying again.
      await journal?.save(call.idempotencyKey, answer);
    } catch (error) {
      // The answer is paid for and in hand: use it (the node's own commit may still store it).
      notStored = error instanceof Error ? error.message : String(error);
    }
  }
  const marks = {
    ...(stored === undefined ? {} : { replayed: true }),
    ...(notStored === undefined ? {} : { notStored }),
  };
  if (definition.stepType !== undefined || definition.responseFormat !== 'json')
    return { output: answer.output, costUsd: answer.costUsd, ...marks };
  try {
    return {
      output: JSON.parse(typeof answer.output === 'string' ? answer.output : '') as unknown,
      costUsd: answer.costUsd,
      ...marks,
    };
  } catch (error) {
    throw createWorkflowError('step.output_invalid', `node ${call.nodeId}: the model's answer is not JSON`, {
      cause: error,
      details: { nodeId: call.nodeId },
    });
  }
}

/** Calls the engine: a step type's output, or a chat answer's text (parsed by the caller). */
async function callModel(
  engine: WorkflowEngine,
  options: Parameters<typeof callNodeFunction>[0],
): Promise<ModelCallResult> {
  const { definition, call } = options;
  if (definition.type === 'transform') throw new Error('not a model node');
  const modelGroup = options.adjust.modelGroup ?? definition.modelGroup;
  const callOptions = {
    tenantId: call.tenantId,
    requestId: call.idempotencyKey,
    signal: call.signal,
    upstreamHeaders: { 'idempotency-key': call.idempotencyKey },
    ...(modelGroup === undefined ? {} : { modelGroup }),
  };
  const context = await readableContext(call, options.readableFields);
  if (definition.stepType !== undefined) {
    const result = await engine.run(definition.stepType, options.input, context, callOptions);
    return { output: result.output, costUsd: result.costUsd ?? 0 };
  }
  const scope = { input: options.input, context };
  const messages: ChatMessage[] = [];
  if (definition.system !== undefined)
    messages.push({ role: 'system', content: renderTemplate(definition.system, scope) });
  let prompt = renderTemplate(definition.prompt ?? '', scope);
  if (call.feedback.length > 0)
    prompt += `\n\nA reviewer rejected the previous answer: ${call.feedback.join('; ')}`;
  messages.push({ role: 'user', content: prompt });
  const request: Record<string, unknown> = {
    ...definition.parameters,
    ...options.adjust.parameters,
    model: modelGroup,
    messages,
    ...(definition.responseFormat === 'json' ? { response_format: { type: 'json_object' } } : {}),
  };
  const { response, meta } = await engine.chat(request, callOptions);
  const text = response.choices[0]?.message.content;
  return { output: typeof text === 'string' ? text : '', costUsd: meta.costUsd ?? 0 };
}

/** Evaluates a branch condition (a comparison on a reference, or a registered function). */
export async function evaluateCondition(
  condition: BranchCondition,
  fn: ConditionFunction | undefined,
  scope: BindingScope,
  call: NodeCallContext,
): Promise<boolean> {
  if ('fn' in condition) {
    if (fn === undefined)
      throw createWorkflowError(
        'workflow.definition_invalid',
        `node ${call.nodeId}: its condition is not registered`,
      );
    const input =
      condition.input === undefined ? undefined : await resolveNodeBinding(condition.input, scope);
    return (await fn(input, call)) === true;
  }
  const value = await resolveNodeBinding(condition.ref, scope);
  const checks: boolean[] = [];
  const same = (left: unknown, right: unknown) => stableStringify(left) === stableStringify(right);
  if ('equals' in condition && condition.equals !== undefined) checks.push(same(value, condition.equals));
  if ('notEquals' in condition && condition.notEquals !== undefined)
    checks.push(!same(value, condition.notEquals));
  if (condition.in !== undefined) checks.push(condition.in.some((option) => same(value, option)));
  if (condition.gt !== undefined) checks.push(typeof value === 'number' && value > condition.gt);
  if (condition.gte !== undefined) checks.push(typeof value === 'number' && value >= condition.gte);
  if (condition.lt !== undefined) checks.push(typeof value === 'number' && value < condition.lt);
  if (condition.lte !== undefined) checks.push(typeof value === 'number' && value <= condition.lte);
  if (condition.exists !== undefined)
    checks.push((value !== undefined && value !== null) === condition.exists);
  if (condition.truthy !== undefined || checks.length === 0)
    checks.push(Boolean(value) === (condition.truthy ?? true));
  return checks.every(Boolean);
}
