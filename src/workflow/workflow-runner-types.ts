import type { Clock, PipewrightError } from '../core/index.ts';
import type {
  WorkflowEventRecord,
  WorkflowNodeRecord,
  WorkflowRunRecord,
  WorkflowRunStatus,
  WorkflowStore,
} from '../store/index.ts';
import type { WorkflowEngine } from './call-node-function.ts';
import type { CompiledWorkflow } from './compile-workflow.ts';
import type { WorkflowDefinition, WorkflowFunctions } from './workflow-definition.ts';

// The workflow runner's public types (re-exported by workflow-runner.ts and the folder's index.ts).

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
