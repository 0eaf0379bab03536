import type { Clock, PipewrightError } from '../core/index.ts';
import type { WorkflowNodeRecord, WorkflowRunRecord, WorkflowStore } from '../store/index.ts';
import type { WorkflowEngine } from './call-node-function.ts';
import type { CompiledNode, CompiledWorkflow } from './compile-workflow.ts';
import type { ContextManager } from './context-manager.ts';
import { createRunEventStream, type RunEventStream } from './run-events.ts';
import { createRunJournal, type RunJournal } from './run-journal.ts';
import type { WorkflowRegistry } from './workflow-registry.ts';
import type { WorkflowRunResult } from './workflow-runner-types.ts';
import {
  createRunQueue,
  listDependents,
  type RunQueue,
  type ScheduleGraph,
  type ScheduleView,
  type Scheduler,
} from './workflow-scheduler.ts';

// The state the runner's modules share: the runner itself (runtime) and each run active in it.

/** Why a run or a node stops early: `close` leaves it to resume, the others record it. */
export type StopReason = 'cancel' | 'close' | 'fail' | 'lost-race';

/** One node of an active run: its record as stored, its output, and its running attempt. */
export interface NodeState {
  node: CompiledNode;
  record: WorkflowNodeRecord;
  output: unknown;
  controller: AbortController | undefined;
  stop: StopReason | undefined;
}

/** A run this runner is executing. */
export interface ActiveRun {
  /** The key of the run in the runner's `active` map (tenant and run id). */
  key: string;
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
  /** The run's live events, for `events()` readers. */
  events: RunEventStream;
  stop: StopReason | undefined;
  failure: PipewrightError | undefined;
  finished: boolean;
  resolve: (result: WorkflowRunResult) => void;
  result: Promise<WorkflowRunResult>;
  /** Work in flight for the run (node attempts, commits), awaited by `close`. */
  tasks: Set<Promise<void>>;
}

/** What every part of one runner shares. */
export interface RunnerRuntime {
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly engine: WorkflowEngine | undefined;
  readonly registry: WorkflowRegistry;
  /** Runs executing here, by `runKey`. */
  readonly active: Map<string, ActiveRun>;
  readonly scheduler: Scheduler<ActiveRun>;
  /** Set by `close`: nothing new starts. */
  closing: boolean;
}

/** Run statuses a run never leaves. */
export const terminalRunStatuses: ReadonlySet<string> = new Set([
  'succeeded',
  'partial',
  'failed',
  'cancelled',
]);

export function runKey(tenantId: string, runId: string): string {
  return `${tenantId}\u0000${runId}`;
}

/** A run's in-memory state, its journal and its event stream (not yet active in the runner). */
export function createActiveRun(
  runtime: Pick<RunnerRuntime, 'store' | 'clock'>,
  record: WorkflowRunRecord,
  workflow: CompiledWorkflow,
  context: ContextManager,
): ActiveRun {
  let resolve: (result: WorkflowRunResult) => void = () => undefined;
  const result = new Promise<WorkflowRunResult>((done) => (resolve = done));
  const events = createRunEventStream();
  const journal = createRunJournal({
    store: runtime.store,
    clock: runtime.clock,
    record,
    contextVersion: () => context.version,
    blobThresholdBytes: workflow.blobThresholdBytes,
    publish: events.publish,
  });
  return {
    key: runKey(record.tenantId, record.runId),
    record,
    workflow,
    context,
    states: new Map(),
    graph: { nodes: workflow.nodes, dependents: listDependents(workflow.nodes.values()) },
    queue: createRunQueue(workflow.nodes, { concurrency: record.concurrency }),
    journal,
    events,
    stop: undefined,
    failure: undefined,
    finished: false,
    resolve,
    result,
    tasks: new Set(),
  };
}

/** The scheduler's view of a run: its nodes' statuses and the cases its branches chose. */
export function scheduleView(run: ActiveRun): ScheduleView {
  return {
    status: (id) => run.states.get(id)?.record.status ?? 'pending',
    chosenCase: (id) => (run.states.get(id)?.output as { case?: number } | undefined)?.case,
  };
}

/** Whether a node's final failure fails the run or lets it continue. */
export function failureOutcome(node: CompiledNode): 'fail' | 'continue' {
  const policy = node.definition.onError;
  if (policy?.action === 'continue') return 'continue';
  if (policy?.action === 'retry') return policy.then ?? 'fail';
  return 'fail';
}
