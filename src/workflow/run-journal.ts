import { createHash } from 'node:crypto';
import { stableStringify, type Clock } from '../core/index.ts';
import type {
  WorkflowCommit,
  WorkflowEventRecord,
  WorkflowNodeRecord,
  WorkflowRunRecord,
  WorkflowStore,
} from '../store/index.ts';
import type { ModelCallJournal } from './call-node-function.ts';
import { createWorkflowError } from './workflow-definition-error.ts';

/** One transition's changes, without the run record (the journal adds its progress or the whole record). */
export type RunChange = Omit<WorkflowCommit, 'run' | 'runProgress'>;

/**
 * What one run persists, and how: every transition is one store transaction, committed in order
 * (context versions and event seqs stay sequential), and its events are published to the run's
 * event stream only once they are stored.
 *
 * @example
 * const journal = createRunJournal({ store, clock, record, contextVersion: () => context.version, blobThresholdBytes, publish });
 * await journal.serial(() => journal.commit({ nodes: [record], events: [journal.event('node-started', 'draft')] }));
 */
export interface RunJournal {
  /** The run record, kept current in memory (the runner changes its status, cost and outputs). */
  readonly record: WorkflowRunRecord;
  /** A new event with the run's next seq (call it inside `serial`, so seqs are committed in order). */
  event(type: string, nodeId: string | null, data?: Record<string, unknown>): WorkflowEventRecord;
  /** Runs `work` after every earlier transition of the run has been committed (or failed). */
  serial<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Commits one transition in one store transaction; `whole` rewrites the run record (at the
   * end), otherwise only its progress. Publishes the change's events once stored.
   */
  commit(change: RunChange, options?: { whole?: boolean }): Promise<void>;
  /** Settles once every transition queued so far has been committed or has failed. */
  idle(): Promise<void>;
  /** A node output as stored: inline JSON, or a blob (sha256 of its JSON) above the run's threshold. */
  encodeOutput(output: unknown): EncodedOutput;
  /** The run's completed model calls, stored by idempotency key before the node's transition. */
  modelCalls(nodeId: string): ModelCallJournal;
}

export interface EncodedOutput {
  outputJson: string | null;
  outputBlobHash: string | null;
  blob: { hash: string; content: string } | undefined;
}

export interface RunJournalOptions {
  store: WorkflowStore;
  clock: Clock;
  record: WorkflowRunRecord;
  /** The run's latest context version, recorded with every transition. */
  contextVersion: () => number;
  blobThresholdBytes: number;
  /** Receives each committed transition's events, in seq order. */
  publish: (events: readonly WorkflowEventRecord[]) => void;
}

export function createRunJournal(options: RunJournalOptions): RunJournal {
  const { store, clock, record } = options;
  let chain: Promise<unknown> = Promise.resolve();

  return {
    record,

    event(type, nodeId, data = {}) {
      record.eventSeq += 1;
      return {
        tenantId: record.tenantId,
        runId: record.runId,
        seq: record.eventSeq,
        time: clock.now(),
        type,
        nodeId,
        data,
      };
    },

    serial<T>(work: () => Promise<T>): Promise<T> {
      const next = chain.then(work);
      chain = next.catch(() => undefined);
      return next;
    },

    async commit(change, commitOptions = {}) {
      record.updatedAt = clock.now();
      record.contextVersion = options.contextVersion();
      const { contextVersion, costUsd, eventSeq, updatedAt } = record;
      await store.commit(
        record.tenantId,
        record.runId,
        commitOptions.whole === true
          ? { ...change, run: { ...record } }
          : { ...change, runProgress: { contextVersion, costUsd, eventSeq, updatedAt } },
      );
      if (change.events !== undefined && change.events.length > 0) options.publish(change.events);
    },

    async idle() {
      await chain;
    },

    encodeOutput(output) {
      if (output === undefined) return { outputJson: null, outputBlobHash: null, blob: undefined };
      const json = stableStringify(output);
      if (Buffer.byteLength(json) <= options.blobThresholdBytes)
        return { outputJson: json, outputBlobHash: null, blob: undefined };
      const hash = createHash('sha256').update(json).digest('hex');
      return { outputJson: null, outputBlobHash: hash, blob: { hash, content: json } };
    },

    modelCalls(nodeId) {
      const { tenantId, runId } = record;
      return {
        async find(idempotencyKey) {
          const stored = await store.getModelCall(tenantId, idempotencyKey);
          return stored === undefined
            ? undefined
            : { output: JSON.parse(stored.outputJson) as unknown, costUsd: stored.costUsd };
        },
        save: (idempotencyKey, result) =>
          store.saveModelCall({
            tenantId,
            idempotencyKey,
            runId,
            nodeId,
            outputJson: JSON.stringify(result.output) ?? 'null',
            costUsd: result.costUsd,
            createdAt: clock.now(),
          }),
      };
    },
  };
}

/** A node's record before it ever ran. */
export function createNodeRecord(run: WorkflowRunRecord, nodeId: string, now: number): WorkflowNodeRecord {
  return {
    tenantId: run.tenantId,
    runId: run.runId,
    nodeId,
    status: 'pending',
    attempt: 1,
    startVersion: null,
    outputJson: null,
    outputBlobHash: null,
    error: null,
    reason: null,
    costUsd: 0,
    progress: null,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  };
}

/** A succeeded node's output as stored (inline or from its blob); undefined when it has none. */
export async function readNodeOutput(store: WorkflowStore, record: WorkflowNodeRecord): Promise<unknown> {
  if (record.outputJson !== null) return JSON.parse(record.outputJson) as unknown;
  if (record.outputBlobHash === null) return undefined;
  const content = await store.getBlob(record.tenantId, record.outputBlobHash);
  if (content === undefined)
    throw createWorkflowError(
      'store.failure',
      `output blob ${record.outputBlobHash} of node ${record.nodeId} is missing`,
    );
  return JSON.parse(content) as unknown;
}

/**
 * Cancels a run that is not active in this runner (interrupted): its open nodes, the run and its
 * final events are written in one transaction.
 */
export async function cancelStoredRun(
  store: WorkflowStore,
  record: WorkflowRunRecord,
  now: number,
  isOpen: (node: WorkflowNodeRecord) => boolean,
): Promise<void> {
  const { tenantId, runId } = record;
  const nodes = (await store.listNodes(tenantId, runId)).filter(isOpen);
  const reason = 'the run was cancelled';
  let seq = record.eventSeq;
  const event = (type: string, nodeId: string | null, data: Record<string, unknown>) => ({
    tenantId,
    runId,
    seq: (seq += 1),
    time: now,
    type,
    nodeId,
    data,
  });
  const events: WorkflowEventRecord[] = nodes.map((node) => event('node-cancelled', node.nodeId, { reason }));
  events.push(event('run-finished', null, { status: 'cancelled', costUsd: record.costUsd }));
  await store.commit(tenantId, runId, {
    run: {
      ...record,
      status: 'cancelled',
      eventSeq: seq,
      updatedAt: now,
      finishedAt: now,
      error: { code: 'workflow.cancelled', message: `run ${runId} was cancelled` },
    },
    nodes: nodes.map((node) => ({ ...node, status: 'cancelled', reason, updatedAt: now })),
    events,
    clearModelCalls: true,
  });
}
