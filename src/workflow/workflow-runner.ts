import {
  createId,
  createSystemClock,
  toPipewrightError,
  type Clock,
  type PipewrightError,
} from '../core/index.ts';
import type {
  WorkflowEventRecord,
  WorkflowNodeRecord,
  WorkflowRunRecord,
  WorkflowRunStatus,
  WorkflowStore,
} from '../store/index.ts';
import {
  callNodeFunction,
  evaluateCondition,
  resolveNodeBinding,
  type BindingScope,
  type NodeCallResult,
  type WorkflowEngine,
} from './call-node-function.ts';
import { compileWorkflow, type CompiledNode, type CompiledWorkflow } from './compile-workflow.ts';
import { createContextManager, type ContextManager, type PreparedWrites } from './context-manager.ts';
import { readPath } from './parse-reference.ts';
import { createRunEventStream, followRunEvents, type RunEventStream } from './run-events.ts';
import {
  cancelStoredRun,
  createNodeRecord,
  createRunJournal,
  readNodeOutput,
  type RunChange,
  type RunJournal,
} from './run-journal.ts';
import { createWorkflowError } from './workflow-definition-error.ts';
import {
  createRunQueue,
  createScheduler,
  listDependents,
  settleNodes,
  terminalNodeStatuses,
  type RunQueue,
  type ScheduleGraph,
  type ScheduleView,
} from './workflow-scheduler.ts';
import type {
  GateVerdict,
  NodeCallContext,
  WorkflowDefinition,
  WorkflowFunctions,
} from './workflow-definition.ts';

export interface WorkflowRunnerOptions {
  /** The engine model nodes call (`run` for step types, `chat` for prompts). */
  engine?: WorkflowEngine;
  store: WorkflowStore;
  /** Transforms, gates, conditions and validators named by YAML definitions. */
  functions?: WorkflowFunctions;
  /** Workflows that `start` may name by id and `resume` finds by id and version. */
  workflows?: ReadonlyArray<WorkflowDefinition | CompiledWorkflow>;
  /** Nodes running at once across every run of this runner (default 16). */
  concurrency?: number;
  /** The tenant when a call names none (default `default`). */
  defaultTenantId?: string;
  clock?: Clock;
}

export interface StartWorkflowOptions {
  tenantId?: string;
  /** A caller-chosen run id (default: generated). */
  runId?: string;
  /** Nodes of this run running at once (default: the workflow's `concurrency`). */
  concurrency?: number;
}

/** How a run ended; `interrupted` when the runner was closed under it (resume it later). */
export interface WorkflowRunResult {
  runId: string;
  tenantId: string;
  status: WorkflowRunStatus | 'interrupted';
  outputs: Record<string, unknown>;
  costUsd: number;
  error: PipewrightError | undefined;
}

export interface WorkflowRunHandle {
  runId: string;
  tenantId: string;
  /** Settles when the run finishes (never rejects). */
  result: Promise<WorkflowRunResult>;
}

/** A run as stored: the record, every node's state, and the context at its latest version. */
export interface WorkflowRunView {
  run: WorkflowRunRecord;
  nodes: WorkflowNodeRecord[];
}

/**
 * Runs workflows: schedules ready nodes in parallel (by priority, under a global and a per-run
 * limit), persists every node transition with its context writes in one store transaction,
 * resumes interrupted runs without re-running succeeded nodes, and cancels at any point.
 *
 * @example
 * const runner = createWorkflowRunner({ engine, store: store.workflows, functions: { transforms: { pick } } });
 * const handle = await runner.start(loadWorkflow(yaml, functions), { brief: 'Tea for everyone' });
 * for await (const event of runner.events(handle.runId)) console.log(event.type, event.nodeId);
 * const { status, outputs } = await handle.result;
 */
export interface WorkflowRunner {
  /** Compiles (when needed) and registers a workflow so runs can name it and resume finds it. */
  register(workflow: WorkflowDefinition | CompiledWorkflow): CompiledWorkflow;
  start(
    workflow: string | WorkflowDefinition | CompiledWorkflow,
    input: Readonly<Record<string, unknown>>,
    options?: StartWorkflowOptions,
  ): Promise<WorkflowRunHandle>;
  /** Continues an interrupted run: succeeded nodes keep their outputs, interrupted ones re-run with the same idempotency key. */
  resume(runId: string, options?: { tenantId?: string }): Promise<WorkflowRunHandle>;
  /**
   * Resumes every run of the tenant left `running` in the store (after a crash or restart) that is
   * not active here. Call it at start-up of the one process that owns the store. Runs that cannot
   * resume (their definition is unknown or changed) are listed with the error.
   */
  resumeInterrupted(options?: {
    tenantId?: string;
  }): Promise<{ resumed: WorkflowRunHandle[]; failed: Array<{ runId: string; error: PipewrightError }> }>;
  cancel(runId: string, options?: { tenantId?: string }): Promise<void>;
  get(runId: string, options?: { tenantId?: string }): Promise<WorkflowRunView>;
  /** The context of a run at a version (default: the latest still readable). */
  context(runId: string, options?: { tenantId?: string; version?: number }): Promise<Record<string, unknown>>;
  /**
   * The run's events from `afterSeq`, then live ones, ending when the run finishes, the runner
   * closes or `signal` aborts (a client that went away).
   */
  events(
    runId: string,
    options?: { tenantId?: string; afterSeq?: number; signal?: AbortSignal },
  ): AsyncIterable<WorkflowEventRecord>;
  /** Stops scheduling and aborts running nodes without recording them as cancelled (like a crash). */
  close(): Promise<void>;
}

type StopReason = 'cancel' | 'close' | 'fail' | 'lost-race';

interface NodeState {
  node: CompiledNode;
  record: WorkflowNodeRecord;
  output: unknown;
  controller: AbortController | undefined;
  stop: StopReason | undefined;
}

interface ActiveRun {
  record: WorkflowRunRecord;
  workflow: CompiledWorkflow;
  context: ContextManager;
  states: Map<string, NodeState>;
  /** The run's graph as the scheduler walks it. */
  graph: ScheduleGraph;
  /** The run's ready queue and limit, in the runner's scheduler while the run is active. */
  queue: RunQueue;
  /** What the run persists: one store transaction per transition, in order. */
  journal: RunJournal;
  stop: StopReason | undefined;
  failure: PipewrightError | undefined;
  finished: boolean;
  resolve: (result: WorkflowRunResult) => void;
  result: Promise<WorkflowRunResult>;
  /** The run's live events, for `events()` readers. */
  events: RunEventStream;
  tasks: Set<Promise<void>>;
}

const terminal = terminalNodeStatuses;
const runTerminal = new Set(['succeeded', 'partial', 'failed', 'cancelled']);

export function createWorkflowRunner(options: WorkflowRunnerOptions): WorkflowRunner {
  const { store } = options;
  const clock = options.clock ?? createSystemClock();
  const functions = options.functions ?? {};
  const scheduler = createScheduler<ActiveRun>({ globalLimit: options.concurrency ?? 16 });
  const defaultTenantId = options.defaultTenantId ?? 'default';
  const registry = new Map<string, CompiledWorkflow>();
  const active = new Map<string, ActiveRun>();
  let closing = false;

  const key = (tenantId: string, runId: string) => `${tenantId}\u0000${runId}`;
  const tenantOf = (given: string | undefined) => given ?? defaultTenantId;

  function register(workflow: WorkflowDefinition | CompiledWorkflow): CompiledWorkflow {
    const compiled = isCompiled(workflow) ? workflow : compileWorkflow(workflow, functions);
    registry.set(`${compiled.id}@${compiled.version}`, compiled);
    registry.set(compiled.id, newest(registry.get(compiled.id), compiled));
    return compiled;
  }
  for (const workflow of options.workflows ?? []) register(workflow);

  // ---- creating and loading runs

  function createActiveRun(
    record: WorkflowRunRecord,
    workflow: CompiledWorkflow,
    context: ContextManager,
  ): ActiveRun {
    let resolve: (result: WorkflowRunResult) => void = () => undefined;
    const result = new Promise<WorkflowRunResult>((done) => (resolve = done));
    const events = createRunEventStream();
    const journal = createRunJournal({
      store,
      clock,
      record,
      contextVersion: () => context.version,
      blobThresholdBytes: workflow.blobThresholdBytes,
      publish: events.publish,
    });
    return {
      record,
      workflow,
      context,
      states: new Map(),
      graph: { nodes: workflow.nodes, dependents: listDependents(workflow.nodes.values()) },
      queue: createRunQueue(workflow.nodes, { concurrency: record.concurrency }),
      journal,
      stop: undefined,
      failure: undefined,
      finished: false,
      resolve,
      result,
      events,
      tasks: new Set(),
    };
  }

  async function start(
    workflowOrId: string | WorkflowDefinition | CompiledWorkflow,
    input: Readonly<Record<string, unknown>>,
    startOptions: StartWorkflowOptions = {},
  ): Promise<WorkflowRunHandle> {
    if (closing) throw createWorkflowError('workflow.run_conflict', 'the runner is closed');
    const workflow = typeof workflowOrId === 'string' ? lookupWorkflow(workflowOrId) : register(workflowOrId);
    const tenantId = tenantOf(startOptions.tenantId);
    const runId = startOptions.runId ?? createId('run');
    const concurrency = startOptions.concurrency ?? workflow.concurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw createWorkflowError('workflow.input_invalid', 'concurrency must be a positive integer', {
        param: 'concurrency',
      });
    const values = checkInput(workflow, input);
    const now = clock.now();
    const record: WorkflowRunRecord = {
      tenantId,
      runId,
      workflowId: workflow.id,
      workflowVersion: workflow.version,
      definitionHash: workflow.hash,
      source: serialisable(workflow.definition),
      status: 'running',
      input: input as unknown,
      outputs: null,
      error: null,
      contextVersion: 0,
      costUsd: 0,
      concurrency,
      eventSeq: 0,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    const context = createContextManager({
      workflow,
      tenantId,
      runId,
      loadBlob: (hash) => store.getBlob(tenantId, hash),
      now: () => clock.now(),
    });
    let initial: PreparedWrites;
    try {
      initial = await context.prepareWrites(null, values);
    } catch (error) {
      const wrapped = toPipewrightError(error);
      throw createWorkflowError('workflow.input_invalid', wrapped.message, {
        cause: error,
        ...(wrapped.details === undefined ? {} : { details: wrapped.details }),
      });
    }
    const run = createActiveRun(record, workflow, context);
    const started = run.journal.event('run-started', null, {
      workflowId: workflow.id,
      version: workflow.version,
    });
    const skipped: WorkflowEventRecord[] = [];
    for (const node of workflow.nodes.values()) {
      const state: NodeState = {
        node,
        record: createNodeRecord(run.record, node.id, clock.now()),
        output: undefined,
        controller: undefined,
        stop: undefined,
      };
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
    const runKey = key(tenantId, runId);
    if (active.has(runKey))
      throw createWorkflowError('workflow.run_conflict', `run ${runId} is already active`, {
        param: 'runId',
      });
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
    activate(runKey, run);
    evaluate(run, [...workflow.nodes.keys()]);
    return { runId, tenantId, result: run.result };
  }

  async function resume(
    runId: string,
    resumeOptions: { tenantId?: string } = {},
  ): Promise<WorkflowRunHandle> {
    if (closing) throw createWorkflowError('workflow.run_conflict', 'the runner is closed');
    const tenantId = tenantOf(resumeOptions.tenantId);
    const runKey = key(tenantId, runId);
    if (active.has(runKey))
      throw createWorkflowError('workflow.run_conflict', `run ${runId} is already running in this runner`, {
        param: 'runId',
      });
    const record = await store.getRun(tenantId, runId);
    if (record === undefined)
      throw createWorkflowError('workflow.run_not_found', `no run ${runId} for tenant ${tenantId}`, {
        param: 'runId',
      });
    if (runTerminal.has(record.status))
      throw createWorkflowError(
        'workflow.run_conflict',
        `run ${runId} already finished (${record.status}); nothing to resume`,
        { param: 'runId' },
      );
    const workflow = workflowForRun(record);
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
    const run = createActiveRun(record, workflow, context);
    const byId = new Map(nodes.map((node) => [node.nodeId, node]));
    const reset: WorkflowNodeRecord[] = [];
    for (const node of workflow.nodes.values()) {
      const stored = byId.get(node.id) ?? createNodeRecord(run.record, node.id, clock.now());
      const state: NodeState = {
        node,
        record: stored,
        output: undefined,
        controller: undefined,
        stop: undefined,
      };
      if (stored.status === 'succeeded') state.output = await readNodeOutput(store, stored);
      if (stored.status === 'running' || stored.status === 'ready') {
        // Interrupted mid-attempt: re-run with the same attempt number (same idempotency key).
        stored.status = 'pending';
        stored.updatedAt = clock.now();
        reset.push({ ...stored });
      }
      run.states.set(node.id, state);
    }
    await run.journal.serial(() =>
      run.journal.commit({
        nodes: reset,
        events: [run.journal.event('run-resumed', null, { interrupted: reset.map((node) => node.nodeId) })],
      }),
    );
    // A crash between a node failing and the run finishing: finish the run as the policy said.
    for (const state of run.states.values()) {
      if (
        state.record.status === 'failed' &&
        failureOutcome(state.node) === 'fail' &&
        run.failure === undefined
      ) {
        run.failure = createWorkflowError(
          'workflow.node_failed',
          `node ${state.node.id} failed: ${state.record.error?.message ?? 'unknown error'}`,
          { details: { nodeId: state.node.id, code: state.record.error?.code } },
        );
        run.stop = 'fail';
      }
    }
    activate(runKey, run);
    evaluate(run, [...workflow.nodes.keys()]);
    return { runId, tenantId, result: run.result };
  }

  function lookupWorkflow(id: string, version?: number): CompiledWorkflow {
    const found = registry.get(version === undefined ? id : `${id}@${version}`);
    if (found === undefined)
      throw createWorkflowError(
        'workflow.not_found',
        `no workflow ${id}${version === undefined ? '' : ` version ${version}`} is registered`,
        { param: 'workflow' },
      );
    return found;
  }

  function workflowForRun(record: WorkflowRunRecord): CompiledWorkflow {
    let workflow = registry.get(`${record.workflowId}@${record.workflowVersion}`);
    if (workflow === undefined && record.source !== null)
      workflow = register(JSON.parse(record.source) as WorkflowDefinition);
    if (workflow === undefined)
      throw createWorkflowError(
        'workflow.not_found',
        `run ${record.runId} needs workflow ${record.workflowId} version ${record.workflowVersion}; register it with the runner`,
        { param: 'workflow' },
      );
    if (workflow.hash !== record.definitionHash) {
      throw createWorkflowError(
        'workflow.definition_changed',
        `workflow ${record.workflowId} version ${record.workflowVersion} changed since run ${record.runId} started; bump its version for new runs and restore the old definition to resume`,
      );
    }
    return workflow;
  }

  // ---- scheduling

  /** Moves pending nodes whose dependencies settled to ready or skipped, cascading. */
  function evaluate(run: ActiveRun, candidates: Iterable<string>): void {
    if (run.finished) return;
    const changed = settle(run, candidates);
    if (changed.length > 0) {
      // Events get their seq inside the chain, so seqs are committed (and streamed) in order.
      const persist = () => run.journal.commit({ nodes: changed, events: transitionEvents(run, changed) });
      track(
        run,
        run.journal.serial(persist).catch((error: unknown) => fatal(run, error)),
      );
    }
    dispatch();
    maybeFinish(run);
  }

  /** Moves pending candidates whose dependencies settled to ready (queued) or skipped, cascading; returns the changed records. */
  function settle(run: ActiveRun, candidates: Iterable<string>): WorkflowNodeRecord[] {
    if (run.stop !== undefined) return [];
    const changed: WorkflowNodeRecord[] = [];
    for (const decision of settleNodes(candidates, run.graph, scheduleView(run))) {
      const state = run.states.get(decision.nodeId) as NodeState;
      state.record.status = decision.status;
      if (decision.status === 'ready') run.queue.enqueue(decision.nodeId);
      else {
        state.record.reason = decision.reason ?? null;
        state.record.finishedAt = clock.now();
      }
      state.record.updatedAt = clock.now();
      changed.push({ ...state.record });
    }
    return changed;
  }

  function transitionEvents(run: ActiveRun, changed: readonly WorkflowNodeRecord[]): WorkflowEventRecord[] {
    return changed.map((record) =>
      record.status === 'ready'
        ? run.journal.event('node-ready', record.nodeId)
        : run.journal.event('node-skipped', record.nodeId, { reason: record.reason }),
    );
  }

  /** Starts every node the scheduler lets start now. */
  function dispatch(): void {
    while (!closing) {
      const next = scheduler.next();
      if (next === undefined) return;
      track(next.owner, runNode(next.owner, next.owner.states.get(next.nodeId) as NodeState));
    }
  }

  function activate(runKey: string, run: ActiveRun): void {
    active.set(runKey, run);
    scheduler.add(run.queue, run);
  }

  function deactivate(run: ActiveRun): void {
    active.delete(key(run.record.tenantId, run.record.runId));
    scheduler.remove(run.queue);
  }

  function track(run: ActiveRun, task: Promise<void>): void {
    run.tasks.add(task);
    void task.catch((error: unknown) => fatal(run, error)).finally(() => run.tasks.delete(task));
  }

  // ---- running one node

  function callContext(
    run: ActiveRun,
    state: NodeState,
    nodeId: string,
    feedback: string[],
    signal: AbortSignal,
    suffix = '',
  ): NodeCallContext {
    const attempt = state.record.attempt;
    return {
      runId: run.record.runId,
      nodeId,
      tenantId: run.record.tenantId,
      attempt,
      idempotencyKey: `${run.record.runId}:${state.node.id}:${attempt}${suffix}`,
      context: run.context.reader(nodeId, state.record.startVersion ?? run.context.version),
      parameters: {},
      feedback,
      signal,
    };
  }

  function scope(run: ActiveRun, nodeId: string, version: number): BindingScope {
    return { context: run.context.reader(nodeId, version), nodeOutput: (id) => run.states.get(id)?.output };
  }

  async function runNode(run: ActiveRun, state: NodeState): Promise<void> {
    const controller = new AbortController();
    state.controller = controller;
    state.stop = undefined;
    let pinned: number | undefined;
    try {
      await run.journal.serial(async () => {
        state.record.status = 'running';
        state.record.startVersion = run.context.version;
        state.record.startedAt = clock.now();
        state.record.updatedAt = clock.now();
        pinned = run.context.version;
        run.context.pin(pinned);
        await run.journal.commit({
          nodes: [{ ...state.record }],
          events: [run.journal.event('node-started', state.node.id, { attempt: state.record.attempt })],
        });
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      const { output, costUsd, extra } = await abortable(
        produce(run, state, controller.signal, []),
        controller.signal,
      );
      if (controller.signal.aborted) throw controller.signal.reason;
      await succeed(run, state, output, costUsd, extra);
    } catch (error) {
      await handleFailure(run, state, error, controller.signal);
    } finally {
      if (pinned !== undefined) run.context.unpin(pinned);
      state.controller = undefined;
      scheduler.release(run.queue);
      if (!closing) {
        evaluate(run, run.graph.dependents.get(state.node.id) ?? []);
        dispatch();
      }
      maybeFinish(run);
    }
  }

  async function succeed(
    run: ActiveRun,
    state: NodeState,
    output: unknown,
    costUsd: number,
    extra: { nodes?: WorkflowNodeRecord[]; data?: Record<string, unknown> } = {},
  ): Promise<void> {
    await run.journal.serial(async () => {
      const values: Record<string, unknown> = {};
      for (const write of state.node.writes) values[write.field] = readPath(output, write.path);
      const prepared =
        Object.keys(values).length === 0 ? undefined : await run.context.prepareWrites(state.node.id, values);
      const encoded = run.journal.encodeOutput(output);
      state.record.status = 'succeeded';
      state.record.outputJson = encoded.outputJson;
      state.record.outputBlobHash = encoded.outputBlobHash;
      state.record.error = null;
      state.record.costUsd += costUsd;
      state.record.finishedAt = clock.now();
      state.record.updatedAt = clock.now();
      run.record.costUsd += costUsd;
      const blobs = [...(prepared?.blobs ?? []), ...(encoded.blob === undefined ? [] : [encoded.blob])];
      const change: RunChange = {
        nodes: [{ ...state.record }, ...(extra.nodes ?? [])],
        blobs,
        events: [
          run.journal.event('node-succeeded', state.node.id, {
            attempt: state.record.attempt,
            costUsd,
            ...(prepared === undefined ? {} : { contextVersion: prepared.version }),
            ...extra.data,
          }),
        ],
      };
      if (prepared !== undefined) {
        change.contextWrites = prepared.records;
        change.deleteContext = prepared.truncated;
        // The version must be visible to commit() (it records the run's context version).
        run.context.apply(prepared);
      }
      // Dependents that become ready (or skipped) go in the same transaction: one commit fewer per node.
      state.output = output;
      const cascade = settle(run, run.graph.dependents.get(state.node.id) ?? []);
      change.nodes?.push(...cascade);
      change.events?.push(...transitionEvents(run, cascade));
      try {
        await run.journal.commit(change);
      } catch (error) {
        // Not stored: in memory too the node is still running (the run stops on a store failure).
        state.record.status = 'running';
        state.output = undefined;
        throw error;
      }
    });
  }

  async function handleFailure(
    run: ActiveRun,
    state: NodeState,
    error: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted || state.stop !== undefined) return stopNode(run, state);
    const failure = toPipewrightError(error);
    if (failure.code === 'store.failure') return fatal(run, failure);
    const policy = state.node.definition.onError ?? { action: 'fail' as const };
    const errorRecord = { code: failure.code, message: failure.message, nodeId: state.node.id };
    try {
      if (policy.action === 'retry' && state.record.attempt < (policy.maxAttempts ?? 3)) {
        if ((policy.backoffMs ?? 0) > 0) await clock.sleep(policy.backoffMs ?? 0, signal);
        if (signal.aborted) return await stopNode(run, state);
        await run.journal.serial(async () => {
          state.record.attempt += 1;
          state.record.status = 'ready';
          state.record.error = errorRecord;
          state.record.updatedAt = clock.now();
          await run.journal.commit({
            nodes: [{ ...state.record }],
            events: [
              run.journal.event('node-retrying', state.node.id, {
                attempt: state.record.attempt,
                error: errorRecord,
              }),
            ],
          });
        });
        run.queue.enqueue(state.node.id);
        return;
      }
      if (policy.action === 'substitute' && policy.node !== undefined) {
        const substitute = run.states.get(policy.node);
        if (substitute !== undefined) {
          const { output, costUsd } = await abortable(
            produce(run, state, signal, [], substitute.node),
            signal,
          );
          substitute.record = {
            ...substitute.record,
            status: 'succeeded',
            reason: `substituted for ${state.node.id}`,
            finishedAt: clock.now(),
            updatedAt: clock.now(),
            outputJson: run.journal.encodeOutput(output).outputJson,
          };
          await succeed(run, state, output, costUsd, {
            nodes: [{ ...substitute.record }],
            data: { substitutedBy: substitute.node.id, error: errorRecord },
          });
          return;
        }
      }
    } catch (secondError) {
      if (signal.aborted || state.stop !== undefined) return stopNode(run, state);
      return failNode(
        run,
        state,
        toPipewrightError(secondError),
        policy.action === 'retry' ? (policy.then ?? 'fail') : 'fail',
      );
    }
    return failNode(run, state, failure, failureOutcome(state.node));
  }

  async function failNode(
    run: ActiveRun,
    state: NodeState,
    failure: PipewrightError,
    outcome: 'fail' | 'continue',
  ): Promise<void> {
    const errorRecord = { code: failure.code, message: failure.message, nodeId: state.node.id };
    try {
      await run.journal.serial(async () => {
        state.record.status = 'failed';
        state.record.error = errorRecord;
        state.record.finishedAt = clock.now();
        state.record.updatedAt = clock.now();
        await run.journal.commit({
          nodes: [{ ...state.record }],
          events: [run.journal.event('node-failed', state.node.id, { error: errorRecord, policy: outcome })],
        });
      });
    } catch (error) {
      return fatal(run, error);
    }
    if (outcome === 'fail' && run.failure === undefined) {
      run.failure = createWorkflowError(
        'workflow.node_failed',
        `node ${state.node.id} failed: ${failure.message}`,
        { cause: failure, details: { nodeId: state.node.id, code: failure.code } },
      );
      stopRun(run, 'fail');
    }
  }

  async function stopNode(run: ActiveRun, state: NodeState): Promise<void> {
    const reason = state.stop ?? run.stop;
    // A closed runner leaves the node as running in the store, exactly as a crash would.
    if (reason === 'close' || reason === undefined) return;
    await run.journal
      .serial(async () => {
        state.record.status = 'cancelled';
        state.record.reason =
          reason === 'lost-race'
            ? 'another any-of node won'
            : reason === 'fail'
              ? 'the run failed'
              : 'the run was cancelled';
        state.record.finishedAt = clock.now();
        state.record.updatedAt = clock.now();
        await run.journal.commit({
          nodes: [{ ...state.record }],
          events: [run.journal.event('node-cancelled', state.node.id, { reason: state.record.reason })],
        });
      })
      .catch((error: unknown) => fatal(run, error));
  }

  /** Computes a node's output (or a substitute's, run in its place). */
  async function produce(
    run: ActiveRun,
    state: NodeState,
    signal: AbortSignal,
    feedback: string[],
    substitute?: CompiledNode,
  ): Promise<{ output: unknown; costUsd: number; extra?: { data?: Record<string, unknown> } }> {
    const node = substitute ?? state.node;
    const definition = node.definition;
    const version = state.record.startVersion ?? run.context.version;
    const bindingScope = scope(run, node.id, version);
    // A substitute is another call: it must not share the failed attempt's idempotency key.
    const call = callContext(
      run,
      state,
      node.id,
      feedback,
      signal,
      substitute === undefined ? '' : `:${substitute.id}`,
    );
    const adjust = adjustment(state);
    const readable = readableFields(run, node);
    switch (definition.type) {
      case 'model':
      case 'transform': {
        const input =
          definition.input === undefined
            ? undefined
            : await resolveNodeBinding(definition.input, bindingScope);
        const result = await callNodeFunction({
          definition,
          transform: node.transform,
          engine: options.engine,
          input,
          call,
          readableFields: readable,
          adjust,
          journal: run.journal.modelCalls(node.id),
        });
        return { output: result.output, costUsd: result.costUsd, extra: { data: replayMarks(result) } };
      }
      case 'branch': {
        for (const [index, branchCase] of definition.cases.entries()) {
          if (await evaluateCondition(branchCase.when, node.conditions[index], bindingScope, call))
            return { output: { case: index, chosen: branchCase.then }, costUsd: 0 };
        }
        return { output: { case: definition.cases.length, chosen: definition.otherwise ?? [] }, costUsd: 0 };
      }
      case 'map':
        return runMap(run, state, node, bindingScope, signal, feedback, adjust, readable);
      case 'gate':
        return runGate(run, state, node, signal);
      case 'wait': {
        const members = definition.for.map((id) => [id, run.states.get(id)] as const);
        const mode = definition.mode ?? 'all';
        if (mode === 'any') {
          const winner = members.find(([, member]) => member?.record.status === 'succeeded');
          for (const [, member] of members)
            if (member !== undefined && member !== winner?.[1]) cancelNode(run, member);
          return { output: { winner: winner?.[0], output: winner?.[1]?.output }, costUsd: 0 };
        }
        if (mode === 'settled') {
          return {
            output: Object.fromEntries(
              members.map(([id, member]) => [
                id,
                {
                  status: member?.record.status,
                  output: member?.output,
                  error: member?.record.error ?? undefined,
                },
              ]),
            ),
            costUsd: 0,
          };
        }
        return {
          output: Object.fromEntries(members.map(([id, member]) => [id, member?.output])),
          costUsd: 0,
        };
      }
    }
  }

  function readableFields(run: ActiveRun, node: CompiledNode): string[] {
    return node.reads === '*' ? [...run.workflow.fields.keys()] : [...node.reads];
  }

  function adjustment(state: NodeState): { modelGroup?: string; parameters?: Record<string, unknown> } {
    const adjust = state.node.definition.onError?.adjust;
    if (adjust === undefined || adjust.length === 0 || state.record.attempt < 2) return {};
    return adjust[Math.min(state.record.attempt - 2, adjust.length - 1)] ?? {};
  }

  async function runMap(
    run: ActiveRun,
    state: NodeState,
    node: CompiledNode,
    bindingScope: BindingScope,
    signal: AbortSignal,
    feedback: string[],
    adjust: { modelGroup?: string; parameters?: Record<string, unknown> },
    readable: string[],
  ): Promise<{ output: unknown; costUsd: number }> {
    if (node.definition.type !== 'map') throw new Error('not a map node');
    const definition = node.definition;
    const items = await resolveNodeBinding(definition.over, bindingScope);
    if (!Array.isArray(items))
      throw createWorkflowError(
        'workflow.context_invalid',
        `node ${node.id}: ${definition.over} is not a list`,
        { details: { nodeId: node.id } },
      );
    // Finished items survive retries and resumes (a gate's re-run starts afresh).
    const done =
      feedback.length > 0
        ? {}
        : ((state.record.progress?.items as Record<string, unknown> | undefined) ?? {});
    const results: unknown[] = new Array<unknown>(items.length);
    let costUsd = 0;
    let next = 0;
    const limit = Math.min(definition.concurrency ?? 4, Math.max(1, items.length));
    const worker = async () => {
      while (next < items.length) {
        if (signal.aborted) throw signal.reason;
        const index = next;
        next += 1;
        if (String(index) in done) {
          results[index] = done[String(index)];
          continue;
        }
        const itemScope = { ...bindingScope, item: items[index], index };
        const input =
          definition.node.input === undefined
            ? items[index]
            : await resolveNodeBinding(definition.node.input, itemScope);
        const call = callContext(run, state, node.id, feedback, signal, `:${index}`);
        const result = await callNodeFunction({
          definition: definition.node,
          transform: node.itemTransform,
          engine: options.engine,
          input,
          call,
          readableFields: readable,
          adjust,
          journal: run.journal.modelCalls(node.id),
        });
        results[index] = result.output;
        costUsd += result.costUsd;
        done[String(index)] = result.output;
        await run.journal.serial(async () => {
          state.record.progress = { items: { ...done } };
          state.record.costUsd += result.costUsd;
          run.record.costUsd += result.costUsd;
          state.record.updatedAt = clock.now();
          await run.journal.commit({
            nodes: [{ ...state.record }],
            events: [
              run.journal.event('map-item-succeeded', node.id, {
                index,
                costUsd: result.costUsd,
                ...replayMarks(result),
              }),
            ],
          });
        });
      }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    // Item costs were added to the run as they finished; report none twice.
    state.record.costUsd -= costUsd;
    run.record.costUsd -= costUsd;
    return { output: results, costUsd };
  }

  async function runGate(
    run: ActiveRun,
    state: NodeState,
    node: CompiledNode,
    signal: AbortSignal,
  ): Promise<{ output: unknown; costUsd: number }> {
    if (node.definition.type !== 'gate' || node.gate === undefined) throw new Error('not a gate node');
    const definition = node.definition;
    const target = run.states.get(definition.target) as NodeState;
    let reruns = Number(state.record.progress?.reruns ?? 0);
    for (;;) {
      const gateScope = scope(run, node.id, run.context.version);
      const value =
        definition.input === undefined
          ? target.output
          : await resolveNodeBinding(definition.input, gateScope);
      const verdict: GateVerdict = await node.gate(value, {
        ...callContext(run, state, node.id, [], signal),
        context: gateScope.context,
        parameters: { ...definition.parameters },
      });
      const reasons = Array.isArray(verdict.reasons) ? verdict.reasons.map(String) : [];
      const scored =
        verdict.score === undefined ||
        definition.threshold === undefined ||
        verdict.score >= definition.threshold;
      const pass = verdict.pass === true && scored;
      const output = { pass, score: verdict.score ?? null, reasons, flagged: false };
      if (pass) return { output, costUsd: 0 };
      const onFail = definition.onFail ?? 'reject';
      await run.journal.serial(() =>
        run.journal.commit({
          events: [
            run.journal.event('gate-failed', node.id, {
              target: definition.target,
              score: verdict.score ?? null,
              reasons,
              action: onFail,
              reruns,
            }),
          ],
        }),
      );
      if (onFail === 'flag') return { output: { ...output, flagged: true }, costUsd: 0 };
      if (onFail === 'rerun' && reruns < (definition.maxReruns ?? 2)) {
        reruns += 1;
        state.record.progress = { reruns };
        await rerunTarget(run, target, reasons, signal);
        continue;
      }
      throw createWorkflowError(
        'workflow.gate_rejected',
        `gate ${node.id} rejected ${definition.target}: ${reasons.join('; ') || 'no reasons given'}`,
        {
          details: {
            nodeId: node.id,
            target: definition.target,
            score: verdict.score ?? null,
            reasons,
            reruns,
          },
        },
      );
    }
  }

  async function rerunTarget(
    run: ActiveRun,
    target: NodeState,
    feedback: string[],
    signal: AbortSignal,
  ): Promise<void> {
    await run.journal.serial(async () => {
      target.record.attempt += 1;
      target.record.status = 'running';
      target.record.startVersion = run.context.version;
      target.record.progress = null;
      target.record.updatedAt = clock.now();
      await run.journal.commit({
        nodes: [{ ...target.record }],
        events: [
          run.journal.event('node-started', target.node.id, { attempt: target.record.attempt, feedback }),
        ],
      });
    });
    const { output, costUsd } = await produce(run, target, signal, feedback);
    await succeed(run, target, output, costUsd);
  }

  function cancelNode(run: ActiveRun, state: NodeState): void {
    const status = state.record.status;
    if (status === 'running') {
      state.stop = 'lost-race';
      state.controller?.abort(
        createWorkflowError('workflow.cancelled', `node ${state.node.id} lost an any-of race`),
      );
    } else if (status === 'pending' || status === 'ready') {
      run.queue.withdraw(state.node.id);
      state.record.status = 'cancelled';
      state.record.reason = 'another any-of node won';
      state.record.updatedAt = clock.now();
      const record = { ...state.record };
      track(
        run,
        run.journal
          .serial(() =>
            run.journal.commit({
              nodes: [record],
              events: [run.journal.event('node-cancelled', record.nodeId, { reason: record.reason })],
            }),
          )
          .catch((error: unknown) => fatal(run, error)),
      );
      evaluate(run, run.graph.dependents.get(state.node.id) ?? []);
    }
  }

  // ---- stopping and finishing

  function stopRun(run: ActiveRun, reason: StopReason): void {
    if (run.stop !== undefined) return;
    run.stop = reason;
    run.queue.stop();
    for (const state of run.states.values()) {
      if (state.controller !== undefined) {
        state.stop = reason;
        state.controller.abort(
          createWorkflowError(
            'workflow.cancelled',
            `run ${run.record.runId} ${reason === 'close' ? 'interrupted' : reason === 'fail' ? 'failed' : 'cancelled'}`,
          ),
        );
      }
    }
    maybeFinish(run);
  }

  function fatal(run: ActiveRun, error: unknown): void {
    const failure = toPipewrightError(error);
    run.failure ??= failure;
    stopRun(run, 'fail');
  }

  function maybeFinish(run: ActiveRun): void {
    if (run.finished || run.queue.running > 0) return;
    if (run.stop === 'close') return finishInterrupted(run);
    const open = [...run.states.values()].some((state) => !terminal.has(state.record.status));
    if (open && run.stop === undefined) {
      if (run.queue.ready.length > 0) return;
      // Nothing ready, nothing running, yet nodes open: the definition allows no progress.
      const stuck = [...run.states.values()]
        .filter((state) => !terminal.has(state.record.status))
        .map((state) => state.node.id);
      run.failure = createWorkflowError(
        'workflow.node_failed',
        `run ${run.record.runId} cannot progress: ${stuck.join(', ')} wait on nothing that can finish`,
      );
      run.stop = 'fail';
    }
    run.finished = true;
    track(run, finish(run));
  }

  async function finish(run: ActiveRun): Promise<void> {
    const closed: WorkflowNodeRecord[] = [];
    const events: WorkflowEventRecord[] = [];
    let status: WorkflowRunStatus = 'failed';
    let outputs: Record<string, unknown> = {};
    try {
      await run.journal.serial(async () => {
        for (const state of run.states.values()) {
          if (terminal.has(state.record.status)) continue;
          state.record.status = 'cancelled';
          state.record.reason = run.stop === 'fail' ? 'the run failed' : 'the run was cancelled';
          state.record.updatedAt = clock.now();
          closed.push({ ...state.record });
          events.push(run.journal.event('node-cancelled', state.node.id, { reason: state.record.reason }));
        }
        if (run.stop === 'cancel') status = 'cancelled';
        else if (run.stop === 'fail' || run.failure !== undefined) status = 'failed';
        else
          status = [...run.states.values()].some((state) => state.record.status === 'failed')
            ? 'partial'
            : 'succeeded';
        outputs = await computeOutputs(run);
        run.record.status = status;
        run.record.outputs = outputs;
        run.record.finishedAt = clock.now();
        const failure =
          run.stop === 'cancel'
            ? createWorkflowError('workflow.cancelled', `run ${run.record.runId} was cancelled`)
            : run.failure;
        run.record.error =
          failure === undefined || status === 'succeeded' || status === 'partial'
            ? null
            : {
                code: failure.code,
                message: failure.message,
                ...(typeof failure.details?.nodeId === 'string' ? { nodeId: failure.details.nodeId } : {}),
              };
        events.push(
          run.journal.event('run-finished', null, {
            status,
            costUsd: run.record.costUsd,
            ...(run.record.error === null ? {} : { error: run.record.error }),
          }),
        );
        // Finished: nothing resumes the run, so its stored model calls are let go with the same commit.
        await run.journal.commit({ nodes: closed, events, clearModelCalls: true }, { whole: true });
      });
    } catch (error) {
      // The end of the run is not stored: that is what the caller must hear (resume will finish it).
      run.failure = toPipewrightError(error);
      run.record.status = 'failed';
    }
    deactivate(run);
    run.events.end();
    const failure =
      run.stop === 'cancel'
        ? createWorkflowError('workflow.cancelled', `run ${run.record.runId} was cancelled`)
        : run.failure;
    run.resolve({
      runId: run.record.runId,
      tenantId: run.record.tenantId,
      status: run.record.status,
      outputs,
      costUsd: run.record.costUsd,
      error: run.record.status === 'succeeded' ? undefined : failure,
    });
  }

  function finishInterrupted(run: ActiveRun): void {
    run.finished = true;
    deactivate(run);
    run.events.end();
    run.resolve({
      runId: run.record.runId,
      tenantId: run.record.tenantId,
      status: 'interrupted',
      outputs: {},
      costUsd: run.record.costUsd,
      error: undefined,
    });
  }

  async function computeOutputs(run: ActiveRun): Promise<Record<string, unknown>> {
    const outputs: Record<string, unknown> = {};
    const latest = await run.context.snapshot();
    for (const [name, reference] of Object.entries(run.workflow.definition.outputs ?? {})) {
      const value = await resolveNodeBinding(reference, {
        context: { version: run.context.version, get: (field) => Promise.resolve(latest[field]) },
        nodeOutput: (id) => run.states.get(id)?.output,
      });
      if (value !== undefined) outputs[name] = value;
    }
    return outputs;
  }

  // ---- the public API

  async function resumeInterrupted(
    resumeOptions: { tenantId?: string } = {},
  ): Promise<{ resumed: WorkflowRunHandle[]; failed: Array<{ runId: string; error: PipewrightError }> }> {
    const tenantId = tenantOf(resumeOptions.tenantId);
    const resumed: WorkflowRunHandle[] = [];
    const failed: Array<{ runId: string; error: PipewrightError }> = [];
    for (const record of await store.listRuns(tenantId, { status: 'running', limit: 1_000 })) {
      if (active.has(key(tenantId, record.runId))) continue;
      try {
        resumed.push(await resume(record.runId, { tenantId }));
      } catch (error) {
        failed.push({ runId: record.runId, error: toPipewrightError(error) });
      }
    }
    return { resumed, failed };
  }

  async function cancel(runId: string, cancelOptions: { tenantId?: string } = {}): Promise<void> {
    const tenantId = tenantOf(cancelOptions.tenantId);
    const run = active.get(key(tenantId, runId));
    if (run !== undefined) {
      stopRun(run, 'cancel');
      await run.result;
      return;
    }
    const record = await store.getRun(tenantId, runId);
    if (record === undefined)
      throw createWorkflowError('workflow.run_not_found', `no run ${runId} for tenant ${tenantId}`, {
        param: 'runId',
      });
    if (runTerminal.has(record.status)) return;
    // Not running here (interrupted): close it in the store.
    await cancelStoredRun(store, record, clock.now(), (node) => !terminal.has(node.status));
  }

  async function get(runId: string, getOptions: { tenantId?: string } = {}): Promise<WorkflowRunView> {
    const tenantId = tenantOf(getOptions.tenantId);
    const run = await store.getRun(tenantId, runId);
    if (run === undefined)
      throw createWorkflowError('workflow.run_not_found', `no run ${runId} for tenant ${tenantId}`, {
        param: 'runId',
      });
    return { run, nodes: await store.listNodes(tenantId, runId) };
  }

  async function context(
    runId: string,
    contextOptions: { tenantId?: string; version?: number } = {},
  ): Promise<Record<string, unknown>> {
    const tenantId = tenantOf(contextOptions.tenantId);
    const live = active.get(key(tenantId, runId));
    if (live !== undefined) return live.context.snapshot(contextOptions.version ?? live.context.version);
    const record = await store.getRun(tenantId, runId);
    if (record === undefined)
      throw createWorkflowError('workflow.run_not_found', `no run ${runId} for tenant ${tenantId}`, {
        param: 'runId',
      });
    const workflow = workflowForRun(record);
    const history = await store.listContext(tenantId, runId);
    const manager = createContextManager({
      workflow,
      tenantId,
      runId,
      history,
      latestVersion: record.contextVersion,
      loadBlob: (hash) => store.getBlob(tenantId, hash),
      now: () => clock.now(),
    });
    return manager.snapshot(contextOptions.version ?? manager.version);
  }

  function events(
    runId: string,
    eventOptions: { tenantId?: string; afterSeq?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<WorkflowEventRecord> {
    const tenantId = tenantOf(eventOptions.tenantId);
    return followRunEvents({
      store,
      tenantId,
      runId,
      ...(eventOptions.afterSeq === undefined ? {} : { afterSeq: eventOptions.afterSeq }),
      ...(eventOptions.signal === undefined ? {} : { signal: eventOptions.signal }),
      live: () => active.get(key(tenantId, runId))?.events,
    });
  }

  async function close(): Promise<void> {
    closing = true;
    const runs = [...active.values()];
    for (const run of runs) stopRun(run, 'close');
    await Promise.all(
      runs.map(async (run) => {
        while (run.tasks.size > 0) await Promise.allSettled([...run.tasks]);
        await run.journal.idle();
      }),
    );
  }

  return { register, start, resume, resumeInterrupted, cancel, get, context, events, close };
}

/** The scheduler's view of a run: its nodes' statuses and the cases its branches chose. */
function scheduleView(run: ActiveRun): ScheduleView {
  return {
    status: (id) => run.states.get(id)?.record.status ?? 'pending',
    chosenCase: (id) => (run.states.get(id)?.output as { case?: number } | undefined)?.case,
  };
}

/**
 * Settles with `work`, or rejects as soon as `signal` aborts: a node that ignores its signal
 * cannot hold up a cancel or a close (its promise is left to settle on its own).
 */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/**
 * Event data marking a replayed model call (its cost was paid once, before a crash, and is counted
 * once in the run) or a result that could not be stored.
 */
function replayMarks(result: NodeCallResult): Record<string, unknown> {
  return {
    ...(result.replayed === true ? { replayed: true } : {}),
    ...(result.notStored === undefined ? {} : { modelCallNotStored: result.notStored }),
  };
}

/** Whether a node's final failure fails the run or lets it continue. */
function failureOutcome(node: CompiledNode): 'fail' | 'continue' {
  const policy = node.definition.onError;
  if (policy?.action === 'continue') return 'continue';
  if (policy?.action === 'retry') return policy.then ?? 'fail';
  return 'fail';
}

function isCompiled(workflow: WorkflowDefinition | CompiledWorkflow): workflow is CompiledWorkflow {
  return (
    typeof (workflow as CompiledWorkflow).hash === 'string' &&
    (workflow as CompiledWorkflow).nodes instanceof Map
  );
}

function newest(current: CompiledWorkflow | undefined, candidate: CompiledWorkflow): CompiledWorkflow {
  return current === undefined || candidate.version >= current.version ? candidate : current;
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
