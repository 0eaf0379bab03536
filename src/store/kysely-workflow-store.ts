import type { ColumnType, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import { InvalidRequestError, PipewrightError } from '../core/index.ts';
import { toStoreError } from './store-error.ts';
import type {
  ContextWriteRecord,
  ModelCallRecord,
  WorkflowCommit,
  WorkflowErrorRecord,
  WorkflowEventRecord,
  WorkflowNodeRecord,
  WorkflowNodeStatus,
  WorkflowRunRecord,
  WorkflowRunStatus,
  WorkflowStore,
} from './workflow-store.ts';

type BigInt = ColumnType<number | string, number, number>;

export interface WorkflowRunsTable {
  tenant_id: string;
  run_id: string;
  workflow_id: string;
  workflow_version: number;
  definition_hash: string;
  source: string | null;
  status: string;
  input_json: string;
  outputs_json: string | null;
  error_json: string | null;
  context_version: number;
  cost_usd: number;
  concurrency: number;
  event_seq: number;
  created_at: BigInt;
  updated_at: BigInt;
  finished_at: ColumnType<number | string | null, number | null, number | null>;
}

export interface WorkflowNodesTable {
  tenant_id: string;
  run_id: string;
  node_id: string;
  status: string;
  attempt: number;
  start_version: number | null;
  output_json: string | null;
  output_blob_hash: string | null;
  error_json: string | null;
  reason: string | null;
  cost_usd: number;
  progress_json: string | null;
  started_at: ColumnType<number | string | null, number | null, number | null>;
  finished_at: ColumnType<number | string | null, number | null, number | null>;
  updated_at: BigInt;
}

export interface WorkflowContextTable {
  tenant_id: string;
  run_id: string;
  field: string;
  version: number;
  value_json: string | null;
  blob_hash: string | null;
  node_id: string | null;
  time: BigInt;
}

export interface WorkflowBlobsTable {
  tenant_id: string;
  hash: string;
  content: string;
  size: BigInt;
}

export interface WorkflowEventsTable {
  tenant_id: string;
  run_id: string;
  seq: number;
  time: BigInt;
  type: string;
  node_id: string | null;
  data_json: string;
}

export interface WorkflowModelCallsTable {
  tenant_id: string;
  idempotency_key: string;
  run_id: string;
  node_id: string;
  output_json: string;
  cost_usd: number;
  created_at: BigInt;
}

// A type alias (not an interface) so it satisfies `Kysely.withTables`' index-signature constraint.
export type WorkflowDatabase = {
  workflow_runs: WorkflowRunsTable;
  workflow_nodes: WorkflowNodesTable;
  workflow_context: WorkflowContextTable;
  workflow_blobs: WorkflowBlobsTable;
  workflow_events: WorkflowEventsTable;
  workflow_model_calls: WorkflowModelCallsTable;
};

const maxRunsLimit = 1_000;
const maxEventsLimit = 10_000;
/** Rows per INSERT: 16 columns × 200 stays under every driver's bound-parameter limit. */
const rowsPerStatement = 200;

/**
 * The workflow store over any Kysely dialect. Every query filters on the tenant first; `commit`
 * runs in one transaction.
 *
 * @example
 * const workflows = createKyselyWorkflowStore(db.withTables<WorkflowDatabase>());
 */
export function createKyselyWorkflowStore(db: Kysely<WorkflowDatabase>): WorkflowStore {
  return {
    ...createRunWrites(db),
    ...createRunReads(db),
    ...createRunContentReads(db),
    ...createModelCallMethods(db),
  };
}

type Database = Kysely<WorkflowDatabase>;
type WorkflowTransaction = Transaction<WorkflowDatabase>;

/** Creating a run and committing a transition, each in one transaction. */
function createRunWrites(db: Database): Pick<WorkflowStore, 'createRun' | 'commit'> {
  return {
    async createRun(run, commit = {}) {
      checkTenant(run.tenantId);
      try {
        await db.transaction().execute(async (transaction) => {
          const existing = await transaction
            .selectFrom('workflow_runs')
            .select('run_id')
            .where('tenant_id', '=', run.tenantId)
            .where('run_id', '=', run.runId)
            .executeTakeFirst();
          if (existing !== undefined)
            throw new PipewrightError({
              code: 'workflow.run_conflict',
              message: `run ${run.runId} already exists`,
              param: 'runId',
            });
          await writeCommit(transaction, run.tenantId, run.runId, { ...commit, run });
        });
      } catch (error) {
        throw toStoreError(error, `creation of run ${run.runId}`);
      }
    },

    async commit(tenantId, runId, commit) {
      checkTenant(tenantId);
      try {
        await db.transaction().execute((transaction) => writeCommit(transaction, tenantId, runId, commit));
      } catch (error) {
        throw toStoreError(error, `commit of run ${runId}`);
      }
    },
  };
}

/** Every part of one commit, in this order, inside the caller's transaction. */
async function writeCommit(
  transaction: WorkflowTransaction,
  tenantId: string,
  runId: string,
  commit: WorkflowCommit,
): Promise<void> {
  await writeRun(transaction, tenantId, runId, commit);
  await writeNodes(transaction, tenantId, runId, commit.nodes ?? []);
  await writeBlobs(transaction, tenantId, commit.blobs ?? []);
  await writeContext(transaction, tenantId, runId, commit);
  await writeEvents(transaction, tenantId, runId, commit.events ?? []);
  if (commit.clearModelCalls === true) {
    await transaction
      .deleteFrom('workflow_model_calls')
      .where('tenant_id', '=', tenantId)
      .where('run_id', '=', runId)
      .execute();
  }
}

/** The whole run row (inserted or replaced), or only its progress counters (the run must exist). */
async function writeRun(
  transaction: WorkflowTransaction,
  tenantId: string,
  runId: string,
  commit: WorkflowCommit,
): Promise<void> {
  if (commit.run !== undefined) {
    checkOwner(commit.run, tenantId, runId, 'run');
    const row = toRunRow(commit.run);
    const { tenant_id: _tenant, run_id: _run, created_at: _created, ...update } = row;
    await transaction
      .insertInto('workflow_runs')
      .values(row)
      .onConflict((conflict) => conflict.columns(['tenant_id', 'run_id']).doUpdateSet(update))
      .execute();
  } else if (commit.runProgress !== undefined) {
    const progress = commit.runProgress;
    const result = await transaction
      .updateTable('workflow_runs')
      .set({
        context_version: progress.contextVersion,
        cost_usd: progress.costUsd,
        event_seq: progress.eventSeq,
        updated_at: progress.updatedAt,
      })
      .where('tenant_id', '=', tenantId)
      .where('run_id', '=', runId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n)
      throw new PipewrightError({
        code: 'workflow.run_not_found',
        message: `no run ${runId} for tenant ${tenantId}`,
        param: 'runId',
      });
  }
}

async function writeNodes(
  transaction: WorkflowTransaction,
  tenantId: string,
  runId: string,
  nodes: readonly WorkflowNodeRecord[],
): Promise<void> {
  for (const node of nodes) {
    checkOwner(node, tenantId, runId, 'node');
    const row = toNodeRow(node);
    const { tenant_id: _tenant, run_id: _run, node_id: _node, ...update } = row;
    await transaction
      .insertInto('workflow_nodes')
      .values(row)
      .onConflict((conflict) => conflict.columns(['tenant_id', 'run_id', 'node_id']).doUpdateSet(update))
      .execute();
  }
}

/** Content-addressed: a blob already stored under its hash is kept. */
async function writeBlobs(
  transaction: WorkflowTransaction,
  tenantId: string,
  blobs: NonNullable<WorkflowCommit['blobs']>,
): Promise<void> {
  for (const blob of blobs) {
    await transaction
      .insertInto('workflow_blobs')
      .values({
        tenant_id: tenantId,
        hash: blob.hash,
        content: blob.content,
        size: Buffer.byteLength(blob.content),
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'hash']).doNothing())
      .execute();
  }
}

/** New context versions (in batches), then the versions the commit drops. */
async function writeContext(
  transaction: WorkflowTransaction,
  tenantId: string,
  runId: string,
  commit: WorkflowCommit,
): Promise<void> {
  const writes = commit.contextWrites ?? [];
  writes.forEach((record) => checkOwner(record, tenantId, runId, 'context write'));
  for (let start = 0; start < writes.length; start += rowsPerStatement) {
    await transaction
      .insertInto('workflow_context')
      .values(writes.slice(start, start + rowsPerStatement).map(toContextRow))
      .execute();
  }
  for (const gone of commit.deleteContext ?? []) {
    await transaction
      .deleteFrom('workflow_context')
      .where('tenant_id', '=', tenantId)
      .where('run_id', '=', runId)
      .where('field', '=', gone.field)
      .where('version', '=', gone.version)
      .execute();
  }
}

async function writeEvents(
  transaction: WorkflowTransaction,
  tenantId: string,
  runId: string,
  events: readonly WorkflowEventRecord[],
): Promise<void> {
  events.forEach((event) => checkOwner(event, tenantId, runId, 'event'));
  for (let start = 0; start < events.length; start += rowsPerStatement) {
    await transaction
      .insertInto('workflow_events')
      .values(events.slice(start, start + rowsPerStatement).map(toEventRow))
      .execute();
  }
}

/** One run, a tenant's runs, and the tenants that have runs. */
function createRunReads(db: Database): Pick<WorkflowStore, 'getRun' | 'listRuns' | 'listTenants'> {
  return {
    async getRun(tenantId, runId) {
      checkTenant(tenantId);
      try {
        const row = await db
          .selectFrom('workflow_runs')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('run_id', '=', runId)
          .executeTakeFirst();
        return row === undefined ? undefined : toRunRecord(row);
      } catch (error) {
        throw toStoreError(error, `read of run ${runId}`);
      }
    },

    async listRuns(tenantId, query = {}) {
      checkTenant(tenantId);
      const limit = checkLimit(query.limit, 100, maxRunsLimit);
      try {
        let builder = db.selectFrom('workflow_runs').selectAll().where('tenant_id', '=', tenantId);
        if (query.status !== undefined) builder = builder.where('status', '=', query.status);
        const rows = await builder
          .orderBy('created_at', 'desc')
          .orderBy('run_id', 'desc')
          .limit(limit)
          .execute();
        return rows.map(toRunRecord);
      } catch (error) {
        throw toStoreError(error, 'list of runs');
      }
    },

    async listTenants(query = {}) {
      try {
        let builder = db.selectFrom('workflow_runs').select('tenant_id').distinct();
        if (query.status !== undefined) builder = builder.where('status', '=', query.status);
        const rows = await builder.orderBy('tenant_id').execute();
        return rows.map((row) => row.tenant_id);
      } catch (error) {
        throw toStoreError(error, 'list of tenants with runs');
      }
    },
  };
}

/** What a run holds: its nodes, its context versions, its blobs and its events. */
function createRunContentReads(
  db: Database,
): Pick<WorkflowStore, 'listNodes' | 'listContext' | 'getBlob' | 'listEvents'> {
  return {
    async listNodes(tenantId, runId) {
      checkTenant(tenantId);
      try {
        const rows = await db
          .selectFrom('workflow_nodes')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('run_id', '=', runId)
          .orderBy('node_id')
          .execute();
        return rows.map(toNodeRecord);
      } catch (error) {
        throw toStoreError(error, `list of nodes of run ${runId}`);
      }
    },

    async listContext(tenantId, runId) {
      checkTenant(tenantId);
      try {
        const rows = await db
          .selectFrom('workflow_context')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('run_id', '=', runId)
          .orderBy('version')
          .orderBy('field')
          .execute();
        return rows.map(toContextRecord);
      } catch (error) {
        throw toStoreError(error, `read of the context of run ${runId}`);
      }
    },

    async getBlob(tenantId, hash) {
      checkTenant(tenantId);
      try {
        const row = await db
          .selectFrom('workflow_blobs')
          .select('content')
          .where('tenant_id', '=', tenantId)
          .where('hash', '=', hash)
          .executeTakeFirst();
        return row?.content;
      } catch (error) {
        throw toStoreError(error, `read of blob ${hash}`);
      }
    },

    async listEvents(tenantId, runId, query = {}) {
      checkTenant(tenantId);
      const limit = checkLimit(query.limit, 1_000, maxEventsLimit);
      try {
        const rows = await db
          .selectFrom('workflow_events')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('run_id', '=', runId)
          .where('seq', '>', query.afterSeq ?? 0)
          .orderBy('seq')
          .limit(limit)
          .execute();
        return rows.map(toEventRecord);
      } catch (error) {
        throw toStoreError(error, `list of events of run ${runId}`);
      }
    },
  };
}

/** Model-call answers kept by idempotency key, so a resumed run does not pay for a call twice. */
function createModelCallMethods(db: Database): Pick<WorkflowStore, 'saveModelCall' | 'getModelCall'> {
  return {
    async saveModelCall(record) {
      checkTenant(record.tenantId);
      if (typeof record.idempotencyKey !== 'string' || record.idempotencyKey.length === 0) {
        throw new InvalidRequestError({
          message: 'idempotencyKey is required to store a model call',
          param: 'idempotencyKey',
        });
      }
      try {
        await db
          .insertInto('workflow_model_calls')
          .values(toModelCallRow(record))
          .onConflict((conflict) => conflict.columns(['tenant_id', 'idempotency_key']).doNothing())
          .execute();
      } catch (error) {
        throw toStoreError(error, `save of model call ${record.idempotencyKey}`);
      }
    },

    async getModelCall(tenantId, idempotencyKey) {
      checkTenant(tenantId);
      try {
        const row = await db
          .selectFrom('workflow_model_calls')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('idempotency_key', '=', idempotencyKey)
          .executeTakeFirst();
        return row === undefined ? undefined : toModelCallRecord(row);
      } catch (error) {
        throw toStoreError(error, `read of model call ${idempotencyKey}`);
      }
    },
  };
}

function checkTenant(tenantId: string): void {
  if (typeof tenantId !== 'string' || tenantId.length === 0) {
    throw new InvalidRequestError({
      message: 'tenantId is required: every workflow read and write is scoped to one tenant',
      param: 'tenantId',
    });
  }
}

function checkOwner(
  record: { tenantId: string; runId: string },
  tenantId: string,
  runId: string,
  what: string,
): void {
  if (record.tenantId !== tenantId || record.runId !== runId) {
    throw new InvalidRequestError({
      message: `a ${what} of ${record.tenantId}/${record.runId} cannot be committed to ${tenantId}/${runId}`,
      param: 'tenantId',
    });
  }
}

function checkLimit(limit: number | undefined, fallback: number, maximum: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > maximum)
    throw new InvalidRequestError({
      message: `limit must be an integer from 1 to ${maximum}`,
      param: 'limit',
    });
  return limit;
}

function toRunRow(run: WorkflowRunRecord): Insertable<WorkflowRunsTable> {
  return {
    tenant_id: run.tenantId,
    run_id: run.runId,
    workflow_id: run.workflowId,
    workflow_version: run.workflowVersion,
    definition_hash: run.definitionHash,
    source: run.source,
    status: run.status,
    input_json: JSON.stringify(run.input ?? null),
    outputs_json: run.outputs === null ? null : JSON.stringify(run.outputs),
    error_json: run.error === null ? null : JSON.stringify(run.error),
    context_version: run.contextVersion,
    cost_usd: run.costUsd,
    concurrency: run.concurrency,
    event_seq: run.eventSeq,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    finished_at: run.finishedAt,
  };
}

function toRunRecord(row: Selectable<WorkflowRunsTable>): WorkflowRunRecord {
  return {
    tenantId: row.tenant_id,
    runId: row.run_id,
    workflowId: row.workflow_id,
    workflowVersion: Number(row.workflow_version),
    definitionHash: row.definition_hash,
    source: row.source,
    status: row.status as WorkflowRunStatus,
    input: JSON.parse(row.input_json) as unknown,
    outputs: row.outputs_json === null ? null : (JSON.parse(row.outputs_json) as Record<string, unknown>),
    error: row.error_json === null ? null : (JSON.parse(row.error_json) as WorkflowErrorRecord),
    contextVersion: Number(row.context_version),
    costUsd: Number(row.cost_usd),
    concurrency: Number(row.concurrency),
    eventSeq: Number(row.event_seq),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

function toNodeRow(node: WorkflowNodeRecord): Insertable<WorkflowNodesTable> {
  return {
    tenant_id: node.tenantId,
    run_id: node.runId,
    node_id: node.nodeId,
    status: node.status,
    attempt: node.attempt,
    start_version: node.startVersion,
    output_json: node.outputJson,
    output_blob_hash: node.outputBlobHash,
    error_json: node.error === null ? null : JSON.stringify(node.error),
    reason: node.reason,
    cost_usd: node.costUsd,
    progress_json: node.progress === null ? null : JSON.stringify(node.progress),
    started_at: node.startedAt,
    finished_at: node.finishedAt,
    updated_at: node.updatedAt,
  };
}

function toNodeRecord(row: Selectable<WorkflowNodesTable>): WorkflowNodeRecord {
  return {
    tenantId: row.tenant_id,
    runId: row.run_id,
    nodeId: row.node_id,
    status: row.status as WorkflowNodeStatus,
    attempt: Number(row.attempt),
    startVersion: row.start_version === null ? null : Number(row.start_version),
    outputJson: row.output_json,
    outputBlobHash: row.output_blob_hash,
    error: row.error_json === null ? null : (JSON.parse(row.error_json) as WorkflowErrorRecord),
    reason: row.reason,
    costUsd: Number(row.cost_usd),
    progress: row.progress_json === null ? null : (JSON.parse(row.progress_json) as Record<string, unknown>),
    startedAt: row.started_at === null ? null : Number(row.started_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    updatedAt: Number(row.updated_at),
  };
}

function toContextRow(record: ContextWriteRecord): Insertable<WorkflowContextTable> {
  return {
    tenant_id: record.tenantId,
    run_id: record.runId,
    field: record.field,
    version: record.version,
    value_json: record.valueJson,
    blob_hash: record.blobHash,
    node_id: record.nodeId,
    time: record.time,
  };
}

function toContextRecord(row: Selectable<WorkflowContextTable>): ContextWriteRecord {
  return {
    tenantId: row.tenant_id,
    runId: row.run_id,
    version: Number(row.version),
    field: row.field,
    valueJson: row.value_json,
    blobHash: row.blob_hash,
    nodeId: row.node_id,
    time: Number(row.time),
  };
}

function toEventRow(event: WorkflowEventRecord): Insertable<WorkflowEventsTable> {
  return {
    tenant_id: event.tenantId,
    run_id: event.runId,
    seq: event.seq,
    time: event.time,
    type: event.type,
    node_id: event.nodeId,
    data_json: JSON.stringify(event.data),
  };
}

function toEventRecord(row: Selectable<WorkflowEventsTable>): WorkflowEventRecord {
  return {
    tenantId: row.tenant_id,
    runId: row.run_id,
    seq: Number(row.seq),
    time: Number(row.time),
    type: row.type,
    nodeId: row.node_id,
    data: JSON.parse(row.data_json) as Record<string, unknown>,
  };
}

function toModelCallRow(record: ModelCallRecord): Insertable<WorkflowModelCallsTable> {
  return {
    tenant_id: record.tenantId,
    idempotency_key: record.idempotencyKey,
    run_id: record.runId,
    node_id: record.nodeId,
    output_json: record.outputJson,
    cost_usd: record.costUsd,
    created_at: record.createdAt,
  };
}

function toModelCallRecord(row: Selectable<WorkflowModelCallsTable>): ModelCallRecord {
  return {
    tenantId: row.tenant_id,
    idempotencyKey: row.idempotency_key,
    runId: row.run_id,
    nodeId: row.node_id,
    outputJson: row.output_json,
    costUsd: Number(row.cost_usd),
    createdAt: Number(row.created_at),
  };
}
