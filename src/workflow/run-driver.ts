import { toPipewrightError, type PipewrightError } from '../core/index.ts';
import type { WorkflowEventRecord, WorkflowNodeRecord, WorkflowRunStatus } from '../store/index.ts';
import {
  failureOutcome,
  scheduleView,
  type ActiveRun,
  type NodeState,
  type RunnerRuntime,
  type StopReason,
} from './active-run.ts';
import { resolveNodeBinding } from './call-node-function.ts';
import type { CompiledNode } from './compile-workflow.ts';
import { produceOutput, type ExecutorHooks, type ProducedOutput } from './node-executor.ts';
import { readPath } from './parse-reference.ts';
import type { RunChange } from './run-journal.ts';
import { createWorkflowError } from './workflow-definition-error.ts';
import { listOpenNodes, settleNodes, terminalNodeStatuses } from './workflow-scheduler.ts';

// The run driver: moves an active run forward. It applies the scheduler's decisions, starts the
// nodes it dispatches, records each attempt's outcome under the node's failure policy, and
// finishes the run. Every transition goes through the run's journal (one store transaction each).

/** Makes an opened run active: it is found by id and the scheduler dispatches its nodes. */
export function activateRun(runtime: RunnerRuntime, run: ActiveRun): void {
  runtime.active.set(run.key, run);
  runtime.scheduler.add(run.queue, run);
  evaluate(runtime, run, [...run.workflow.nodes.keys()]);
}

/** Moves pending nodes whose dependencies settled to ready or skipped (cascading), starts what may start, and finishes the run when nothing is left. */
function evaluate(runtime: RunnerRuntime, run: ActiveRun, candidates: Iterable<string>): void {
  if (run.finished) return;
  const changed = settle(runtime, run, candidates);
  if (changed.length > 0) {
    // Events get their seq inside the chain, so seqs are committed (and streamed) in order.
    const persist = () => run.journal.commit({ nodes: changed, events: transitionEvents(run, changed) });
    track(
      runtime,
      run,
      run.journal.serial(persist).catch((error: unknown) => fatal(runtime, run, error)),
    );
  }
  dispatch(runtime);
  maybeFinish(runtime, run);
}

/** Applies the scheduler's decisions for the candidates (ready ones are queued); returns the changed records. */
function settle(runtime: RunnerRuntime, run: ActiveRun, candidates: Iterable<string>): WorkflowNodeRecord[] {
  if (run.stop !== undefined) return [];
  const changed: WorkflowNodeRecord[] = [];
  for (const decision of settleNodes(candidates, run.graph, scheduleView(run))) {
    const state = run.states.get(decision.nodeId) as NodeState;
    state.record.status = decision.status;
    if (decision.status === 'ready') run.queue.enqueue(decision.nodeId);
    else {
      state.record.reason = decision.reason ?? null;
      state.record.finishedAt = runtime.clock.now();
    }
    state.record.updatedAt = runtime.clock.now();
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
function dispatch(runtime: RunnerRuntime): void {
  while (!runtime.closing) {
    const next = runtime.scheduler.next();
    if (next === undefined) return;
    const run = next.owner;
    track(runtime, run, runNode(runtime, run, run.states.get(next.nodeId) as NodeState));
  }
}

/** Keeps a run's work in flight visible to `close`; an unexpected error stops the run. */
function track(runtime: RunnerRuntime, run: ActiveRun, task: Promise<void>): void {
  run.tasks.add(task);
  void task.catch((error: unknown) => fatal(runtime, run, error)).finally(() => run.tasks.delete(task));
}

function executorHooks(runtime: RunnerRuntime): ExecutorHooks {
  return {
    engine: runtime.engine,
    clock: runtime.clock,
    succeed: (run, state, output, costUsd) => succeed(runtime, run, state, output, costUsd),
    cancelNode: (run, state) => cancelNode(runtime, run, state),
  };
}

/** One attempt of a node: recorded as started, its output computed, then its success or failure recorded. */
async function runNode(runtime: RunnerRuntime, run: ActiveRun, state: NodeState): Promise<void> {
  const { clock } = runtime;
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
    const hooks = executorHooks(runtime);
    const produced = await abortable(
      produceOutput(hooks, run, state, controller.signal, []),
      controller.signal,
    );
    if (controller.signal.aborted) throw controller.signal.reason;
    await succeed(runtime, run, state, produced.output, produced.costUsd, produced.extra);
  } catch (error) {
    await handleFailure(runtime, run, state, error, controller.signal);
  } finally {
    if (pinned !== undefined) run.context.unpin(pinned);
    state.controller = undefined;
    runtime.scheduler.release(run.queue);
    if (!runtime.closing) {
      evaluate(runtime, run, run.graph.dependents.get(state.node.id) ?? []);
      dispatch(runtime);
    }
    maybeFinish(runtime, run);
  }
}

/**
 * Records a node's success in one transaction: its output, its context writes (a new version),
 * its cost, and the dependents that become ready or skipped because of it.
 */
async function succeed(
  runtime: RunnerRuntime,
  run: ActiveRun,
  state: NodeState,
  output: unknown,
  costUsd: number,
  extra: { nodes?: WorkflowNodeRecord[]; data?: Record<string, unknown> } = {},
): Promise<void> {
  const { clock } = runtime;
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
      // The version must be visible to the journal's commit (it records the run's context version).
      run.context.apply(prepared);
    }
    // Dependents that become ready (or skipped) go in the same transaction: one commit fewer per node.
    state.output = output;
    const cascade = settle(runtime, run, run.graph.dependents.get(state.node.id) ?? []);
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

/** Applies the node's failure policy to a failed attempt: retry, substitute, continue or fail the run. */
async function handleFailure(
  runtime: RunnerRuntime,
  run: ActiveRun,
  state: NodeState,
  error: unknown,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted || state.stop !== undefined) return stopNode(runtime, run, state);
  const failure = toPipewrightError(error);
  if (failure.code === 'store.failure') return fatal(runtime, run, failure);
  const policy = state.node.definition.onError ?? { action: 'fail' as const };
  const errorRecord = { code: failure.code, message: failure.message, nodeId: state.node.id };
  try {
    if (policy.action === 'retry' && state.record.attempt < (policy.maxAttempts ?? 3)) {
      return await retryNode(runtime, run, state, errorRecord, { backoffMs: policy.backoffMs ?? 0, signal });
    }
    if (policy.action === 'substitute' && policy.node !== undefined) {
      const substitute = run.states.get(policy.node);
      if (substitute !== undefined)
        return await substituteNode(runtime, run, state, substitute, errorRecord, signal);
    }
  } catch (secondError) {
    if (signal.aborted || state.stop !== undefined) return stopNode(runtime, run, state);
    const outcome = policy.action === 'retry' ? (policy.then ?? 'fail') : 'fail';
    return failNode(runtime, run, state, toPipewrightError(secondError), outcome);
  }
  return failNode(runtime, run, state, failure, failureOutcome(state.node));
}

type ErrorRecord = { code: string; message: string; nodeId: string };

/** Records the failed attempt and queues the next one (after the policy's backoff). */
async function retryNode(
  runtime: RunnerRuntime,
  run: ActiveRun,
  state: NodeState,
  errorRecord: ErrorRecord,
  options: { backoffMs: number; signal: AbortSignal },
): Promise<void> {
  if (options.backoffMs > 0) await runtime.clock.sleep(options.backoffMs, options.signal);
  if (options.signal.aborted) return stopNode(runtime, run, state);
  await run.journal.serial(async () => {
    state.record.attempt += 1;
    state.record.status = 'ready';
    state.record.error = errorRecord;
    state.record.updatedAt = runtime.clock.now();
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
}

/** Runs the standby node in the failed node's place; its output is recorded as the node's. */
async function substituteNode(
  runtime: RunnerRuntime,
  run: ActiveRun,
  state: NodeState,
  substitute: NodeState,
  errorRecord: ErrorRecord,
  signal: AbortSignal,
): Promise<void> {
  const produced: ProducedOutput = await abortable(
    produceOutput(executorHooks(runtime), run, state, signal, [], substitute.node),
    signal,
  );
  substitute.record = {
    ...substitute.record,
    status: 'succeeded',
    reason: `substituted for ${state.node.id}`,
    finishedAt: runtime.clock.now(),
    updatedAt: runtime.clock.now(),
    outputJson: run.journal.encodeOutput(produced.output).outputJson,
  };
  await succeed(runtime, run, state, produced.output, produced.costUsd, {
    nodes: [{ ...substitute.record }],
    data: { substitutedBy: substitute.node.id, error: errorRecord },
  });
}

/** Records a node's final failure; under a `fail` outcome the run fails (and stops). */
async function failNode(
  runtime: RunnerRuntime,
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
      state.record.finishedAt = runtime.clock.now();
      state.record.updatedAt = runtime.clock.now();
      await run.journal.commit({
        nodes: [{ ...state.record }],
        events: [run.journal.event('node-failed', state.node.id, { error: errorRecord, policy: outcome })],
      });
    });
  } catch (error) {
    return fatal(runtime, run, error);
  }
  if (outcome === 'fail' && run.failure === undefined) {
    run.failure = nodeFailure(state.node, failure.message, { cause: failure, code: failure.code });
    stopRun(runtime, run, 'fail');
  }
}

/** The run's error when a node's failure fails it. */
export function nodeFailure(
  node: CompiledNode,
  message: string,
  options: { cause?: unknown; code: string | undefined },
): PipewrightError {
  return createWorkflowError('workflow.node_failed', `node ${node.id} failed: ${message}`, {
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    details: { nodeId: node.id, code: options.code },
  });
}

/** Records an aborted attempt as cancelled — unless the runner closed, which leaves it to resume. */
async function stopNode(runtime: RunnerRuntime, run: ActiveRun, state: NodeState): Promise<void> {
  const reason = state.stop ?? run.stop;
  // A closed runner leaves the node as running in the store, exactly as a crash would.
  if (reason === 'close' || reason === undefined) return;
  await run.journal
    .serial(async () => {
      state.record.status = 'cancelled';
      state.record.reason = stopReasonText(reason);
      state.record.finishedAt = runtime.clock.now();
      state.record.updatedAt = runtime.clock.now();
      await run.journal.commit({
        nodes: [{ ...state.record }],
        events: [run.journal.event('node-cancelled', state.node.id, { reason: state.record.reason })],
      });
    })
    .catch((error: unknown) => fatal(runtime, run, error));
}

function stopReasonText(reason: Exclude<StopReason, 'close'>): string {
  if (reason === 'lost-race') return 'another any-of node won';
  return reason === 'fail' ? 'the run failed' : 'the run was cancelled';
}

/** Cancels a node that lost an any-of race: a running one is aborted, a waiting one cancelled at once. */
function cancelNode(runtime: RunnerRuntime, run: ActiveRun, state: NodeState): void {
  const status = state.record.status;
  if (status === 'running') {
    state.stop = 'lost-race';
    state.controller?.abort(
      createWorkflowError('workflow.cancelled', `node ${state.node.id} lost an any-of race`),
    );
  } else if (status === 'pending' || status === 'ready') {
    run.queue.withdraw(state.node.id);
    state.record.status = 'cancelled';
    state.record.reason = stopReasonText('lost-race');
    state.record.updatedAt = runtime.clock.now();
    const record = { ...state.record };
    track(
      runtime,
      run,
      run.journal
        .serial(() =>
          run.journal.commit({
            nodes: [record],
            events: [run.journal.event('node-cancelled', record.nodeId, { reason: record.reason })],
          }),
        )
        .catch((error: unknown) => fatal(runtime, run, error)),
    );
    evaluate(runtime, run, run.graph.dependents.get(state.node.id) ?? []);
  }
}

/** Stops a run: nothing more is dispatched and its running nodes are aborted. */
export function stopRun(runtime: RunnerRuntime, run: ActiveRun, reason: StopReason): void {
  if (run.stop !== undefined) return;
  run.stop = reason;
  run.queue.stop();
  for (const state of run.states.values()) {
    if (state.controller !== undefined) {
      state.stop = reason;
      const outcome = reason === 'close' ? 'interrupted' : reason === 'fail' ? 'failed' : 'cancelled';
      state.controller.abort(createWorkflowError('workflow.cancelled', `run ${run.record.runId} ${outcome}`));
    }
  }
  maybeFinish(runtime, run);
}

/** An error the run cannot go on after (a store failure): the run fails with it. */
function fatal(runtime: RunnerRuntime, run: ActiveRun, error: unknown): void {
  run.failure ??= toPipewrightError(error);
  stopRun(runtime, run, 'fail');
}

/** Finishes the run once nothing runs and nothing more can start. */
function maybeFinish(runtime: RunnerRuntime, run: ActiveRun): void {
  if (run.finished || run.queue.running > 0) return;
  if (run.stop === 'close') return finishInterrupted(runtime, run);
  const open = listOpenNodes(run.states.keys(), scheduleView(run));
  if (open.length > 0 && run.stop === undefined) {
    if (run.queue.ready.length > 0) return;
    // Nothing ready, nothing running, yet nodes open: the definition allows no progress.
    run.failure = createWorkflowError(
      'workflow.node_failed',
      `run ${run.record.runId} cannot progress: ${open.join(', ')} wait on nothing that can finish`,
    );
    run.stop = 'fail';
  }
  run.finished = true;
  track(runtime, run, finish(runtime, run));
}

/** The run's final status from how it stopped and its nodes' outcomes. */
function finalStatus(run: ActiveRun): WorkflowRunStatus {
  if (run.stop === 'cancel') return 'cancelled';
  if (run.stop === 'fail' || run.failure !== undefined) return 'failed';
  const anyFailed = [...run.states.values()].some((state) => state.record.status === 'failed');
  return anyFailed ? 'partial' : 'succeeded';
}

function runError(run: ActiveRun): PipewrightError | undefined {
  return run.stop === 'cancel'
    ? createWorkflowError('workflow.cancelled', `run ${run.record.runId} was cancelled`)
    : run.failure;
}

/**
 * Records the end of the run in one transaction (its open nodes cancelled, its outputs, status
 * and error; its stored model calls let go), then settles its result.
 */
async function finish(runtime: RunnerRuntime, run: ActiveRun): Promise<void> {
  const { clock } = runtime;
  let outputs: Record<string, unknown> = {};
  try {
    await run.journal.serial(async () => {
      const closed: WorkflowNodeRecord[] = [];
      const events: WorkflowEventRecord[] = [];
      for (const state of run.states.values()) {
        if (terminalNodeStatuses.has(state.record.status)) continue;
        state.record.status = 'cancelled';
        state.record.reason = run.stop === 'fail' ? 'the run failed' : 'the run was cancelled';
        state.record.updatedAt = clock.now();
        closed.push({ ...state.record });
        events.push(run.journal.event('node-cancelled', state.node.id, { reason: state.record.reason }));
      }
      const status = finalStatus(run);
      outputs = await computeOutputs(run);
      run.record.status = status;
      run.record.outputs = outputs;
      run.record.finishedAt = clock.now();
      const failure = runError(run);
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
  deactivateRun(runtime, run);
  run.resolve({
    runId: run.record.runId,
    tenantId: run.record.tenantId,
    status: run.record.status,
    outputs,
    costUsd: run.record.costUsd,
    error: run.record.status === 'succeeded' ? undefined : runError(run),
  });
}

/** A run the runner closed under: left `running` in the store, to resume later. */
function finishInterrupted(runtime: RunnerRuntime, run: ActiveRun): void {
  run.finished = true;
  deactivateRun(runtime, run);
  run.resolve({
    runId: run.record.runId,
    tenantId: run.record.tenantId,
    status: 'interrupted',
    outputs: {},
    costUsd: run.record.costUsd,
    error: undefined,
  });
}

function deactivateRun(runtime: RunnerRuntime, run: ActiveRun): void {
  runtime.active.delete(run.key);
  runtime.scheduler.remove(run.queue);
  run.events.end();
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
