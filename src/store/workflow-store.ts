/** A run's overall state. `partial`: finished, but some node failed under a `continue` policy. */
export type WorkflowRunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';

/** The state machine of one node. */
export type WorkflowNodeStatus =
  'pending' | 'ready' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface WorkflowErrorRecord {
  code: string;
  message: string;
  nodeId?: string;
}

export interface WorkflowRunRecord {
  tenantId: string;
  runId: string;
  workflowId: string;
  workflowVersion: number;
  /** SHA-256 of the definition the run started with. */
  definitionHash: string;
  /** The definition as JSON when it is serialisable (YAML), so a resume can reload it. */
  source: string | null;
  status: WorkflowRunStatus;
  input: unknown;
  outputs: Record<string, unknown> | null;
  error: WorkflowErrorRecord | null;
  /** The latest context version. */
  contextVersion: number;
  costUsd: number;
  /** The per-run concurrency limit chosen at start. */
  concurrency: number;
  /** The seq of the run's last event. */
  eventSeq: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface WorkflowNodeRecord {
  tenantId: string;
  runId: string;
  nodeId: string;
  status: WorkflowNodeStatus;
  /** 1-based; an interrupted attempt is re-issued with the same number (and idempotency key). */
  attempt: number;
  /** The context version the node read (its start version). */
  startVersion: number | null;
  /** The output as JSON, or null when kept by reference (`outputBlobHash`) or absent. */
  outputJson: string | null;
  outputBlobHash: string | null;
  error: WorkflowErrorRecord | null;
  /** Why a node was skipped or cancelled (`not needed`, `branch chose another case`…). */
  reason: string | null;
  costUsd: number;
  /** Work done inside the node that a resume keeps (a map's finished items). */
  progress: Record<string, unknown> | null;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

/** One field written at one context version. A value is inline JSON or a blob reference. */
export interface ContextWriteRecord {
  tenantId: string;
  runId: string;
  version: number;
  field: string;
  valueJson: string | null;
  blobHash: string | null;
  /** The node that wrote it; null for the run's input and defaults. */
  nodeId: string | null;
  time: number;
}

export interface WorkflowEventRecord {
  tenantId: string;
  runId: string;
  /** 1, 2, 3… per run. */
  seq: number;
  time: number;
  /** `run-started`, `node-started`, `node-succeeded`, `node-failed`, `node-skipped`, `gate-failed`, `run-finished`… */
  type: string;
  nodeId: string | null;
  data: Record<string, unknown>;
}

/**
 * The result of a completed model call of a node, kept under its idempotency key so a resume that
 * re-issues the call replays it instead of paying again.
 */
export interface ModelCallRecord {
  tenantId: string;
  /** `runId:nodeId:attempt` (plus `:item` in a map, `:substitute` for a substitute). */
  idempotencyKey: string;
  runId: string;
  nodeId: string;
  /** The model's answer as JSON (a step type's output, or a chat answer's text). */
  outputJson: string;
  /** What the call cost when it was paid. */
  costUsd: number;
  createdAt: number;
}

/** Everything one node transition changes, written in one transaction. */
export interface WorkflowCommit {
  /** The whole run record, inserted or replaced. */
  run?: WorkflowRunRecord;
  /** The fields of the run that change at every transition (cheaper than `run`; ignored when `run` is set). */
  runProgress?: Pick<WorkflowRunRecord, 'contextVersion' | 'costUsd' | 'eventSeq' | 'updatedAt'>;
  nodes?: WorkflowNodeRecord[];
  contextWrites?: ContextWriteRecord[];
  /** Context rows the history bound lets go. */
  deleteContext?: Array<{ field: string; version: number }>;
  blobs?: Array<{ hash: string; content: string }>;
  events?: WorkflowEventRecord[];
  /** Deletes the run's stored model-call results (the run finished: nothing will replay them). */
  clearModelCalls?: boolean;
}

/**
 * Persistence of workflow runs: runs, node states, context versions, content-addressed blobs and
 * events. Every method takes the tenant; `commit` is atomic (all or nothing), so a crash never
 * leaves a node succeeded without its context writes. Every implementation must pass
 * `runWorkflowStoreContract`.
 *
 * @example
 * await store.workflows.createRun(run, { nodes, events });
 * await store.workflows.commit('acme', run.runId, { nodes: [succeeded], contextWrites, events });
 * const nodes = await store.workflows.listNodes('acme', run.runId);
 */
export interface WorkflowStore {
  /** Inserts a new run (and its first commit); `workflow.run_conflict` when the id is taken. */
  createRun(run: WorkflowRunRecord, commit?: WorkflowCommit): Promise<void>;
  /** Upserts the run and nodes, appends context writes, blobs and events, in one transaction. */
  commit(tenantId: string, runId: string, commit: WorkflowCommit): Promise<void>;
  getRun(tenantId: string, runId: string): Promise<WorkflowRunRecord | undefined>;
  /** The tenant's runs, newest first. */
  listRuns(
    tenantId: string,
    query?: { status?: WorkflowRunStatus; limit?: number },
  ): Promise<WorkflowRunRecord[]>;
  /**
   * The tenants having runs (of a status): the one cross-tenant read, for a process recovering
   * every tenant's interrupted runs at start-up. It returns tenant ids only, never their data.
   */
  listTenants(query?: { status?: WorkflowRunStatus }): Promise<string[]>;
  listNodes(tenantId: string, runId: string): Promise<WorkflowNodeRecord[]>;
  /** Every retained context write of the run, by version. */
  listContext(tenantId: string, runId: string): Promise<ContextWriteRecord[]>;
  getBlob(tenantId: string, hash: string): Promise<string | undefined>;
  /** Events after `afterSeq` (exclusive), oldest first. */
  listEvents(
    tenantId: string,
    runId: string,
    query?: { afterSeq?: number; limit?: number },
  ): Promise<WorkflowEventRecord[]>;
  /**
   * Stores a completed model call's result under (tenant, idempotency key), durably before it
   * resolves. The first result stored for a key wins: a second save of the key changes nothing.
   */
  saveModelCall(record: ModelCallRecord): Promise<void>;
  /** The stored result of a model call, or undefined when the key never completed. */
  getModelCall(tenantId: string, idempotencyKey: string): Promise<ModelCallRecord | undefined>;
}
