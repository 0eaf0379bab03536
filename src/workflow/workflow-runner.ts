import { createSystemClock, toPipewrightError, type PipewrightError } from '../core/index.ts';
import type { WorkflowRunRecord } from '../store/index.ts';
import { runKey, terminalRunStatuses, type ActiveRun, type RunnerRuntime } from './active-run.ts';
import { createContextManager } from './context-manager.ts';
import { resumeRun, startRun } from './open-run.ts';
import { stopRun } from './run-driver.ts';
import { followRunEvents } from './run-events.ts';
import { cancelStoredRun } from './run-journal.ts';
import { createWorkflowError } from './workflow-definition-error.ts';
import { createWorkflowRegistry } from './workflow-registry.ts';
import type { WorkflowRunHandle, WorkflowRunner, WorkflowRunnerOptions } from './workflow-runner-types.ts';
import { createScheduler, terminalNodeStatuses } from './workflow-scheduler.ts';

export type {
  StartWorkflowOptions,
  WorkflowRunHandle,
  WorkflowRunner,
  WorkflowRunnerOptions,
  WorkflowRunResult,
  WorkflowRunView,
} from './workflow-runner-types.ts';

/**
 * Runs workflows: schedules ready nodes in parallel (by priority, under a global and a per-run
 * limit), persists every node transition with its context writes in one store transaction,
 * resumes interrupted runs without re-running succeeded nodes, and cancels at any point.
 *
 * The parts: the scheduler (`workflow-scheduler.ts`, pure: what can run next, under which
 * limits), the run driver (`run-driver.ts`: applies its decisions and records each node's
 * outcome), the node executor (`node-executor.ts`: computes one node's output), the run journal
 * (`run-journal.ts`: what is persisted, one transaction per transition) and the event stream
 * (`run-events.ts`). Opening runs (new or resumed) is `open-run.ts`.
 *
 * @example
 * const runner = createWorkflowRunner({ engine, store: store.workflows, functions: { transforms: { pick } } });
 * const handle = await runner.start(loadWorkflow(yaml, functions), { brief: 'Tea for everyone' });
 * for await (const event of runner.events(handle.runId)) console.log(event.type, event.nodeId);
 * const { status, outputs } = await handle.result;
 */
export function createWorkflowRunner(options: WorkflowRunnerOptions): WorkflowRunner {
  const runtime: RunnerRuntime = {
    store: options.store,
    clock: options.clock ?? createSystemClock(),
    engine: options.engine,
    registry: createWorkflowRegistry(options.functions ?? {}),
    active: new Map(),
    scheduler: createScheduler<ActiveRun>({ globalLimit: options.concurrency ?? 16 }),
    closing: false,
  };
  const defaultTenantId = options.defaultTenantId ?? 'default';
  const tenantOf = (given: string | undefined) => given ?? defaultTenantId;
  for (const workflow of options.workflows ?? []) runtime.registry.register(workflow);

  const resume = (runId: string, resumeOptions: { tenantId?: string } = {}) => {
    if (runtime.closing) return Promise.reject(closedError());
    return resumeRun(runtime, tenantOf(resumeOptions.tenantId), runId);
  };

  return {
    register: (workflow) => runtime.registry.register(workflow),
    async start(workflowOrId, input, startOptions = {}) {
      if (runtime.closing) throw closedError();
      const workflow =
        typeof workflowOrId === 'string'
          ? runtime.registry.lookup(workflowOrId)
          : runtime.registry.register(workflowOrId);
      return startRun(runtime, workflow, input, {
        ...startOptions,
        tenantId: tenantOf(startOptions.tenantId),
      });
    },
    resume,
    async resumeInterrupted(resumeOptions = {}) {
      const tenantId = tenantOf(resumeOptions.tenantId);
      const resumed: WorkflowRunHandle[] = [];
      const failed: Array<{ runId: string; error: PipewrightError }> = [];
      for (const record of await runtime.store.listRuns(tenantId, { status: 'running', limit: 1_000 })) {
        if (runtime.active.has(runKey(tenantId, record.runId))) continue;
        try {
          resumed.push(await resume(record.runId, { tenantId }));
        } catch (error) {
          failed.push({ runId: record.runId, error: toPipewrightError(error) });
        }
      }
      return { resumed, failed };
    },
    cancel: (runId, cancelOptions = {}) => cancelRun(runtime, tenantOf(cancelOptions.tenantId), runId),
    async get(runId, getOptions = {}) {
      const tenantId = tenantOf(getOptions.tenantId);
      const run = await storedRun(runtime, tenantId, runId);
      return { run, nodes: await runtime.store.listNodes(tenantId, runId) };
    },
    context: (runId, contextOptions = {}) =>
      readRunContext(runtime, tenantOf(contextOptions.tenantId), runId, contextOptions.version),
    events(runId, eventOptions = {}) {
      const tenantId = tenantOf(eventOptions.tenantId);
      return followRunEvents({
        store: runtime.store,
        tenantId,
        runId,
        ...(eventOptions.afterSeq === undefined ? {} : { afterSeq: eventOptions.afterSeq }),
        ...(eventOptions.signal === undefined ? {} : { signal: eventOptions.signal }),
        live: () => runtime.active.get(runKey(tenantId, runId))?.events,
      });
    },
    close: () => closeRunner(runtime),
  };
}

function closedError(): PipewrightError {
  return createWorkflowError('workflow.run_conflict', 'the runner is closed');
}

async function storedRun(
  runtime: RunnerRuntime,
  tenantId: string,
  runId: string,
): Promise<WorkflowRunRecord> {
  const record = await runtime.store.getRun(tenantId, runId);
  if (record === undefined)
    throw createWorkflowError('workflow.run_not_found', `no run ${runId} for tenant ${tenantId}`, {
      param: 'runId',
    });
  return record;
}

/** Cancels a run: an active one is stopped (and awaited), an interrupted one closed in the store. */
async function cancelRun(runtime: RunnerRuntime, tenantId: string, runId: string): Promise<void> {
  const run = runtime.active.get(runKey(tenantId, runId));
  if (run !== undefined) {
    stopRun(runtime, run, 'cancel');
    await run.result;
    return;
  }
  const record = await storedRun(runtime, tenantId, runId);
  if (terminalRunStatuses.has(record.status)) return;
  // Not running here (interrupted): close it in the store.
  await cancelStoredRun(
    runtime.store,
    record,
    runtime.clock.now(),
    (node) => !terminalNodeStatuses.has(node.status),
  );
}

/** A run's context at a version: from the active run, or rebuilt from the store. */
async function readRunContext(
  runtime: RunnerRuntime,
  tenantId: string,
  runId: string,
  version: number | undefined,
): Promise<Record<string, unknown>> {
  const live = runtime.active.get(runKey(tenantId, runId));
  if (live !== undefined) return live.context.snapshot(version ?? live.context.version);
  const record = await storedRun(runtime, tenantId, runId);
  const manager = createContextManager({
    workflow: runtime.registry.forRun(record),
    tenantId,
    runId,
    history: await runtime.store.listContext(tenantId, runId),
    latestVersion: record.contextVersion,
    loadBlob: (hash) => runtime.store.getBlob(tenantId, hash),
    now: () => runtime.clock.now(),
  });
  return manager.snapshot(version ?? manager.version);
}

/** Stops every active run like a crash would (left `running`, to resume) and waits for their work to settle. */
async function closeRunner(runtime: RunnerRuntime): Promise<void> {
  runtime.closing = true;
  const runs = [...runtime.active.values()];
  for (const run of runs) stopRun(runtime, run, 'close');
  await Promise.all(
    runs.map(async (run) => {
      while (run.tasks.size > 0) await Promise.allSettled([...run.tasks]);
      await run.journal.idle();
    }),
  );
}
