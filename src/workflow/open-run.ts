import { createId, toPipewrightError } from '../core/index.ts';
import type { WorkflowEventRecord, WorkflowNodeRecord, WorkflowRunRecord } from '../store/index.ts';
import {
  createActiveRun,
  failureOutcome,
  runKey,
  terminalRunStatuses,
  type ActiveRun,
  type NodeState,
  type RunnerRuntime,
} from './active-run.ts';
import type { CompiledWorkflow } from './compile-workflow.ts';
import { createContextManager, type ContextManager, type PreparedWrites } from './context-manager.ts';
import { activateRun, nodeFailure } from './run-driver.ts';
import { createNodeRecord, readNodeOutput } from './run-journal.ts';
import { createWorkflowError } from './workflow-definition-error.ts';
import type { WorkflowDefinition } from './workflow-definition.ts';
import type { StartWorkflowOptions, WorkflowRunHandle } from './workflow-runner-types.ts';

// Opening a run: a new one from its input (checked, written as context version 0, stored with
// its first events), or an interrupted one from the store (succeeded nodes keep their outputs,
// interrupted attempts re-run). Either way the run then becomes active in the runner.

/** Starts a run of `workflow` (already registered) for the tenant. */
export async function startRun(
  runtime: RunnerRuntime,
  workflow: CompiledWorkflow,
  input: Readonly<Record<string, unknown>>,
  options: StartWorkflowOptions & { tenantId: string },
): Promise<WorkflowRunHandle> {
  const { store, clock } = runtime;
  const { tenantId } = options;
  const runId = options.runId ?? createId('run');
  const concurrency = options.concurrency ?? workflow.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw createWorkflowError('workflow.input_invalid', 'concurrency must be a positive integer', {
      param: 'concurrency',
    });
  const values = checkInput(workflow, input);
  const record = newRunRecord(workflow, { tenantId, runId, input, concurrency, now: clock.now() });
  const context = createContextManager({
    workflow,
    tenantId,
    runId,
    loadBlob: (hash) => store.getBlob(tenantId, hash),
    now: () => clock.now(),
  });
  const initial = await prepareInput(context, values);
  const run = createActiveRun(runtime, record, workflow, context);
  const started = run.journal.event('run-started', null, {
    workflowId: workflow.id,
    version: workflow.version,
  });
  const skipped: WorkflowEventRecord[] = [];
  for (const node of workflow.nodes.values()) {
    const state = newNodeState(node, createNodeRecord(record, node.id, clock.now()));
    if (!workflow.needed.has(node.id)) {
      state.record.status = 'skipped';
      state.record.reason =
        node.definition.standby === true
          ? 'standby: runs only as a substitute'
          : 'not needed by any declared output';
      skipped.push(run.journal.event('node-skipped', node.id, { reason: state.record.reason }));
    }
    run.states.set(node.id, state);
  }
  if (runtime.active.has(run.key))
    throw createWorkflowError('workflow.run_conflict', `run ${runId} is already active`, { param: 'runId' });
  record.contextVersion = initial.version;
  await store.createRun(
    { ...record },
    {
      nodes: [...run.states.values()].map((state) => ({ ...state.record })),
      contextWrites: initial.records,
      blobs: initial.blobs,
      events: [started, ...skipped],
    },
  );
  context.apply(initial);
  activateRun(runtime, run);
  return { runId, tenantId, result: run.result };
}

/** Continues an interrupted run of the tenant from the store. */
export async function resumeRun(
  runtime: RunnerRuntime,
  tenantId: string,
  runId: string,
): Promise<WorkflowRunHandle> {
  const { store, clock } = runtime;
  if (runtime.active.has(runKey(tenantId, runId)))
    throw createWorkflowError('workflow.run_conflict', `run ${runId} is already running in this runner`, {
      param: 'runId',
    });
  const record = await store.getRun(tenantId, runId);
  if (record === undefined)
    throw createWorkflowError('workflow.run_not_found', `no run ${runId} for tenant ${tenantId}`, {
      param: 'runId',
    });
  if (terminalRunStatuses.has(record.status))
    throw createWorkflowError(
      'workflow.run_conflict',
      `run ${runId} already finished (${record.status}); nothing to resume`,
      {
        param: 'runId',
      },
    );
  const workflow = runtime.registry.forRun(record);
  const [nodes, history] = await Promise.all([
    store.listNodes(tenantId, runId),
    store.listContext(tenantId, runId),
  ]);
  const context = createContextManager({
    workflow,
    tenantId,
    runId,
    history,
    latestVersion: record.contextVersion,
    loadBlob: (hash) => store.getBlob(tenantId, hash),
    now: () => clock.now(),
  });
  const run = createActiveRun(runtime, record, workflow, context);
  const byId = new Map(nodes.map((node) => [node.nodeId, node]));
  const reset: WorkflowNodeRecord[] = [];
  for (const node of workflow.nodes.values()) {
    const state = newNodeState(node, byId.get(node.id) ?? createNodeRecord(record, node.id, clock.now()));
    if (state.record.status === 'succeeded') state.output = await readNodeOutput(store, state.record);
    if (state.record.status === 'running' || state.record.status === 'ready') {
      // Interrupted mid-attempt: re-run with the same attempt number (same idempotency key).
      state.record.status = 'pending';
      state.record.updatedAt = clock.now();
      reset.push({ ...state.record });
    }
    run.states.set(node.id, state);
  }
  await run.journal.serial(() =>
    run.journal.commit({
      nodes: reset,
      events: [run.journal.event('run-resumed', null, { interrupted: reset.map((node) => node.nodeId) })],
    }),
  );
  failAsStored(run);
  activateRun(runtime, run);
  return { runId, tenantId, result: run.result };
}

/** A crash between a node failing and the run finishing: the run fails as the node's policy said. */
function failAsStored(run: ActiveRun): void {
  for (const state of run.states.values()) {
    if (
      state.record.status === 'failed' &&
      failureOutcome(state.node) === 'fail' &&
      run.failure === undefined
    ) {
      run.failure = nodeFailure(state.node, state.record.error?.message ?? 'unknown error', {
        code: state.record.error?.code,
      });
      run.stop = 'fail';
    }
  }
}

function newNodeState(node: NodeState['node'], record: WorkflowNodeRecord): NodeState {
  return { node, record, output: undefined, controller: undefined, stop: undefined };
}

function newRunRecord(
  workflow: CompiledWorkflow,
  run: { tenantId: string; runId: string; input: unknown; concurrency: number; now: number },
): WorkflowRunRecord {
  return {
    tenantId: run.tenantId,
    runId: run.runId,
    workflowId: workflow.id,
    workflowVersion: workflow.version,
    definitionHash: workflow.hash,
    source: serialisable(workflow.definition),
    status: 'running',
    input: run.input,
    outputs: null,
    error: null,
    contextVersion: 0,
    costUsd: 0,
    concurrency: run.concurrency,
    eventSeq: 0,
    createdAt: run.now,
    updatedAt: run.now,
    finishedAt: null,
  };
}

/** The run's input as context version 0, checked against the fields' schemas and the rules. */
async function prepareInput(
  context: ContextManager,
  values: Record<string, unknown>,
): Promise<PreparedWrites> {
  try {
    return await context.prepareWrites(null, values);
  } catch (error) {
    const wrapped = toPipewrightError(error);
    // The input field at fault, or the input as a whole (a rule over several fields).
    throw createWorkflowError('workflow.input_invalid', wrapped.message, {
      cause: error,
      param: wrapped.param ?? 'input',
      ...(wrapped.details === undefined ? {} : { details: wrapped.details }),
    });
  }
}

/** The definition as JSON when it holds no functions or zod schemas (a YAML definition). */
function serialisable(definition: WorkflowDefinition): string | null {
  let plain = true;
  const json = JSON.stringify(definition, (_key, value: unknown) => {
    if (typeof value === 'function' || (typeof value === 'object' && value !== null && '_zod' in value))
      plain = false;
    return value;
  });
  return plain ? json : null;
}

/** The input's values for every field (inputs given, defaults otherwise); refuses unknown and missing inputs. */
function checkInput(
  workflow: CompiledWorkflow,
  input: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw createWorkflowError('workflow.input_invalid', 'the input must be an object of context fields', {
      param: 'input',
    });
  const declared = new Set(workflow.definition.inputs ?? []);
  for (const name of Object.keys(input)) {
    if (!declared.has(name))
      throw createWorkflowError(
        'workflow.input_invalid',
        `"${name}" is not an input of workflow ${workflow.id} (inputs: ${[...declared].join(', ') || 'none'})`,
        { param: name },
      );
  }
  const values: Record<string, unknown> = {};
  for (const field of workflow.fields.values()) {
    if (declared.has(field.name) && input[field.name] !== undefined) values[field.name] = input[field.name];
    else if (field.hasDefault) values[field.name] = structuredClone(field.default);
    else if (declared.has(field.name))
      throw createWorkflowError('workflow.input_invalid', `input "${field.name}" is required`, {
        param: field.name,
      });
  }
  return values;
}
