import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { PipewrightError } from '../core/index.ts';
import type { Store } from './store.ts';
import type {
  ContextWriteRecord,
  ModelCallRecord,
  WorkflowEventRecord,
  WorkflowNodeRecord,
  WorkflowRunRecord,
} from './workflow-store.ts';

export interface WorkflowStoreContractOptions {
  /** Shown in the test names. */
  name: string;
  /** Opens a store at a fresh location; the same location reaches the same data when `persistent`. */
  createStore: (location: string) => Promise<Store>;
  persistent?: boolean;
}

/**
 * The behaviour every `WorkflowStore` implementation must have, as node:test tests.
 *
 * @example
 * runWorkflowStoreContract({ name: 'sqlite (file)', persistent: true, createStore: (location) => createSqliteStore({ path: join(dir, `${location}.db`) }) });
 */
export function runWorkflowStoreContract(options: WorkflowStoreContractOptions): void {
  const { createStore, persistent = false } = options;

  async function withStore(run: (store: Store) => Promise<void>): Promise<void> {
    const store = await createStore(`workflow_${randomBytes(6).toString('hex')}`);
    try {
      await run(store);
    } finally {
      await store.close();
    }
  }

  describe(`workflow store contract: ${options.name}`, () => {
    test('a run round-trips every field, and its id cannot be taken twice', async () => {
      await withStore(async (store) => {
        const run = runRecord({
          source: '{"id":"flow"}',
          outputs: { summary: 'ok', n: 2 },
          error: { code: 'workflow.node_failed', message: 'x', nodeId: 'a' },
          finishedAt: 1_700_000_009_000,
          costUsd: 0.0123,
        });
        await store.workflows.createRun(run);
        assert.deepEqual(await store.workflows.getRun('tenant_a', run.runId), run);
        await assert.rejects(store.workflows.createRun({ ...run, status: 'failed' }), (error: unknown) =>
          isCode(error, 'workflow.run_conflict'),
        );
        assert.equal((await store.workflows.getRun('tenant_a', run.runId))?.status, run.status);
        assert.equal(await store.workflows.getRun('tenant_a', 'run_missing'), undefined);
      });
    });

    test('commits upsert node states and append context writes and events, read back in order', async () => {
      await withStore(async (store) => {
        const run = runRecord();
        await store.workflows.createRun(run, {
          nodes: [nodeRecord({ nodeId: 'b' }), nodeRecord({ nodeId: 'a' })],
          contextWrites: [contextWrite({ version: 0, field: 'topic', valueJson: '"tea"' })],
          events: [eventRecord({ seq: 1 })],
        });
        const succeeded = nodeRecord({
          nodeId: 'a',
          status: 'succeeded',
          attempt: 2,
          startVersion: 0,
          outputJson: '{"x":1}',
          costUsd: 0.5,
          progress: { items: { 0: 'done' } },
          startedAt: 1,
          finishedAt: 2,
          error: { code: 'provider.server_error', message: 'first try' },
        });
        await store.workflows.commit('tenant_a', run.runId, {
          run: { ...run, contextVersion: 1, eventSeq: 3, updatedAt: 2 },
          nodes: [succeeded],
          contextWrites: [
            contextWrite({
              version: 1,
              field: 'summary',
              valueJson: null,
              blobHash: 'f'.repeat(64),
              nodeId: 'a',
            }),
          ],
          blobs: [{ hash: 'f'.repeat(64), content: '"a long summary"' }],
          events: [
            eventRecord({ seq: 2, type: 'node-started', nodeId: 'a' }),
            eventRecord({ seq: 3, type: 'node-succeeded', nodeId: 'a', data: { costUsd: 0.5 } }),
          ],
        });
        const nodes = await store.workflows.listNodes('tenant_a', run.runId);
        assert.deepEqual(
          nodes.map((node) => node.nodeId),
          ['a', 'b'],
        );
        assert.deepEqual(nodes[0], succeeded);
        assert.deepEqual(
          (await store.workflows.listContext('tenant_a', run.runId)).map((write) => [
            write.version,
            write.field,
            write.valueJson,
            write.blobHash,
          ]),
          [
            [0, 'topic', '"tea"', null],
            [1, 'summary', null, 'f'.repeat(64)],
          ],
        );
        assert.equal(await store.workflows.getBlob('tenant_a', 'f'.repeat(64)), '"a long summary"');
        const events = await store.workflows.listEvents('tenant_a', run.runId);
        assert.deepEqual(
          events.map((event) => event.seq),
          [1, 2, 3],
        );
        assert.deepEqual(events[2]?.data, { costUsd: 0.5 });
        assert.deepEqual(
          (await store.workflows.listEvents('tenant_a', run.runId, { afterSeq: 1, limit: 1 })).map(
            (event) => event.seq,
          ),
          [2],
        );
        assert.equal((await store.workflows.getRun('tenant_a', run.runId))?.eventSeq, 3);

        // A progress update changes only the progress fields.
        await store.workflows.commit('tenant_a', run.runId, {
          runProgress: { contextVersion: 4, costUsd: 0.75, eventSeq: 9, updatedAt: 5 },
        });
        const progressed = await store.workflows.getRun('tenant_a', run.runId);
        assert.deepEqual(progressed, { ...run, contextVersion: 4, costUsd: 0.75, eventSeq: 9, updatedAt: 5 });
        await assert.rejects(
          store.workflows.commit('tenant_a', 'run_missing', {
            runProgress: { contextVersion: 1, costUsd: 0, eventSeq: 1, updatedAt: 1 },
          }),
          (error: unknown) => isCode(error, 'workflow.run_not_found'),
        );
      });
    });

    test('a commit is all or nothing', async () => {
      await withStore(async (store) => {
        const run = runRecord();
        await store.workflows.createRun(run, {
          nodes: [nodeRecord({ nodeId: 'a' })],
          events: [eventRecord({ seq: 1 })],
        });
        await assert.rejects(
          store.workflows.commit('tenant_a', run.runId, {
            run: { ...run, status: 'succeeded' },
            nodes: [nodeRecord({ nodeId: 'a', status: 'succeeded' })],
            contextWrites: [contextWrite({ version: 1, field: 'summary' })],
            events: [eventRecord({ seq: 1, type: 'duplicate seq' })],
          }),
          (error: unknown) => isCode(error, 'store.failure'),
        );
        assert.equal((await store.workflows.getRun('tenant_a', run.runId))?.status, 'running');
        assert.equal((await store.workflows.listNodes('tenant_a', run.runId))[0]?.status, 'pending');
        assert.deepEqual(await store.workflows.listContext('tenant_a', run.runId), []);
      });
    });

    test('tenants are isolated: same run id and blob hash, separate data; records of another run are refused', async () => {
      await withStore(async (store) => {
        const ofA = runRecord({ runId: 'run_same' });
        await store.workflows.createRun(ofA, { blobs: [{ hash: 'a'.repeat(64), content: '"secret of a"' }] });
        assert.equal(await store.workflows.getRun('tenant_b', 'run_same'), undefined);
        assert.deepEqual(await store.workflows.listRuns('tenant_b'), []);
        assert.equal(await store.workflows.getBlob('tenant_b', 'a'.repeat(64)), undefined);
        await store.workflows.createRun({ ...ofA, tenantId: 'tenant_b', workflowId: 'other' });
        assert.equal((await store.workflows.getRun('tenant_a', 'run_same'))?.workflowId, ofA.workflowId);
        assert.equal((await store.workflows.getRun('tenant_b', 'run_same'))?.workflowId, 'other');
        await assert.rejects(
          store.workflows.commit('tenant_b', 'run_same', { nodes: [nodeRecord({ runId: 'run_same' })] }),
          (error: unknown) => isCode(error, 'request.invalid', 'tenantId'),
        );
        await assert.rejects(store.workflows.getRun('', 'run_same'), (error: unknown) =>
          isCode(error, 'request.invalid', 'tenantId'),
        );
      });
    });

    test('blobs are content-addressed: the same hash twice is stored once', async () => {
      await withStore(async (store) => {
        const run = runRecord();
        const blob = { hash: 'b'.repeat(64), content: '"big"' };
        await store.workflows.createRun(run, { blobs: [blob] });
        await store.workflows.commit('tenant_a', run.runId, { blobs: [blob, blob] });
        assert.equal(await store.workflows.getBlob('tenant_a', blob.hash), '"big"');
      });
    });

    test('truncated context rows are deleted', async () => {
      await withStore(async (store) => {
        const run = runRecord();
        await store.workflows.createRun(run, {
          contextWrites: [0, 1, 2].map((version) =>
            contextWrite({ version, field: 'draft', valueJson: `"v${version}"` }),
          ),
        });
        await store.workflows.commit('tenant_a', run.runId, {
          deleteContext: [
            { field: 'draft', version: 0 },
            { field: 'draft', version: 1 },
          ],
        });
        assert.deepEqual(
          (await store.workflows.listContext('tenant_a', run.runId)).map((write) => write.version),
          [2],
        );
      });
    });

    test('runs list newest first, filter by status, and reject a bad limit', async () => {
      await withStore(async (store) => {
        await store.workflows.createRun(runRecord({ runId: 'run_1', createdAt: 1, status: 'succeeded' }));
        await store.workflows.createRun(runRecord({ runId: 'run_2', createdAt: 2 }));
        await store.workflows.createRun(runRecord({ runId: 'run_3', createdAt: 3, status: 'succeeded' }));
        assert.deepEqual(
          (await store.workflows.listRuns('tenant_a')).map((run) => run.runId),
          ['run_3', 'run_2', 'run_1'],
        );
        assert.deepEqual(
          (await store.workflows.listRuns('tenant_a', { status: 'succeeded', limit: 1 })).map(
            (run) => run.runId,
          ),
          ['run_3'],
        );
        await assert.rejects(store.workflows.listRuns('tenant_a', { limit: 0 }), (error: unknown) =>
          isCode(error, 'request.invalid', 'limit'),
        );
      });
    });

    test('tenants with runs are listed once each, filtered by status', async () => {
      await withStore(async (store) => {
        assert.deepEqual(await store.workflows.listTenants(), []);
        await store.workflows.createRun(runRecord({ runId: 'run_1', status: 'succeeded' }));
        await store.workflows.createRun(runRecord({ runId: 'run_2' }));
        await store.workflows.createRun(
          runRecord({ tenantId: 'tenant_b', runId: 'run_1', status: 'failed' }),
        );
        assert.deepEqual(await store.workflows.listTenants(), ['tenant_a', 'tenant_b']);
        assert.deepEqual(await store.workflows.listTenants({ status: 'running' }), ['tenant_a']);
        assert.deepEqual(await store.workflows.listTenants({ status: 'cancelled' }), []);
      });
    });

    test('a model call result is stored once per tenant and key, read back, and cleared with its finished run', async () => {
      await withStore(async (store) => {
        const run = runRecord();
        await store.workflows.createRun(run);
        assert.equal(await store.workflows.getModelCall('tenant_a', 'run_1:draft:1'), undefined);
        const paid = modelCall();
        await store.workflows.saveModelCall(paid);
        assert.deepEqual(await store.workflows.getModelCall('tenant_a', 'run_1:draft:1'), paid);
        // The first result of a key wins: a replayed save cannot overwrite what was paid for.
        await store.workflows.saveModelCall(modelCall({ outputJson: '"another answer"', costUsd: 9 }));
        assert.deepEqual(await store.workflows.getModelCall('tenant_a', 'run_1:draft:1'), paid);
        // Tenant-scoped: the same key of another tenant is another call.
        assert.equal(await store.workflows.getModelCall('tenant_b', 'run_1:draft:1'), undefined);
        await store.workflows.saveModelCall(modelCall({ tenantId: 'tenant_b', outputJson: '"b"' }));
        assert.equal((await store.workflows.getModelCall('tenant_b', 'run_1:draft:1'))?.outputJson, '"b"');
        await assert.rejects(store.workflows.getModelCall('', 'run_1:draft:1'), (error: unknown) =>
          isCode(error, 'request.invalid', 'tenantId'),
        );
        await assert.rejects(
          store.workflows.saveModelCall(modelCall({ idempotencyKey: '' })),
          (error: unknown) => isCode(error, 'request.invalid', 'idempotencyKey'),
        );

        await store.workflows.saveModelCall(modelCall({ idempotencyKey: 'run_2:draft:1', runId: 'run_2' }));
        await store.workflows.commit('tenant_a', run.runId, {
          run: { ...run, status: 'succeeded' },
          clearModelCalls: true,
        });
        assert.equal(await store.workflows.getModelCall('tenant_a', 'run_1:draft:1'), undefined);
        assert.notEqual(
          await store.workflows.getModelCall('tenant_a', 'run_2:draft:1'),
          undefined,
          'another run keeps its calls',
        );
        assert.notEqual(
          await store.workflows.getModelCall('tenant_b', 'run_1:draft:1'),
          undefined,
          'another tenant keeps its calls',
        );
      });
    });

    test(
      'runs, nodes and context survive a reopen',
      { skip: persistent ? false : 'not a persistent store' },
      async () => {
        const location = `workflow_${randomBytes(6).toString('hex')}`;
        const run = runRecord();
        const first = await createStore(location);
        await first.workflows.createRun(run, {
          nodes: [nodeRecord({ status: 'running' })],
          contextWrites: [contextWrite()],
        });
        await first.close();
        const again = await createStore(location);
        try {
          assert.deepEqual(await again.workflows.getRun('tenant_a', run.runId), run);
          assert.equal((await again.workflows.listNodes('tenant_a', run.runId))[0]?.status, 'running');
          assert.equal((await again.workflows.listContext('tenant_a', run.runId)).length, 1);
        } finally {
          await again.close();
        }
      },
    );
  });
}

function isCode(error: unknown, code: string, param?: string): boolean {
  return (
    PipewrightError.isInstance(error) && error.code === code && (param === undefined || error.param === param)
  );
}

function runRecord(fields: Partial<WorkflowRunRecord> = {}): WorkflowRunRecord {
  return {
    tenantId: 'tenant_a',
    runId: 'run_1',
    workflowId: 'flow',
    workflowVersion: 3,
    definitionHash: 'd'.repeat(64),
    source: null,
    status: 'running',
    input: { topic: 'tea', nested: [1, { deep: true }] },
    outputs: null,
    error: null,
    contextVersion: 0,
    costUsd: 0,
    concurrency: 4,
    eventSeq: 1,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    finishedAt: null,
    ...fields,
  };
}

function nodeRecord(fields: Partial<WorkflowNodeRecord> = {}): WorkflowNodeRecord {
  return {
    tenantId: 'tenant_a',
    runId: 'run_1',
    nodeId: 'a',
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
    updatedAt: 1_700_000_000_000,
    ...fields,
  };
}

function contextWrite(fields: Partial<ContextWriteRecord> = {}): ContextWriteRecord {
  return {
    tenantId: 'tenant_a',
    runId: 'run_1',
    version: 0,
    field: 'topic',
    valueJson: '"tea"',
    blobHash: null,
    nodeId: null,
    time: 1_700_000_000_000,
    ...fields,
  };
}

function modelCall(fields: Partial<ModelCallRecord> = {}): ModelCallRecord {
  return {
    tenantId: 'tenant_a',
    idempotencyKey: 'run_1:draft:1',
    runId: 'run_1',
    nodeId: 'draft',
    outputJson: '{"text":"paid once"}',
    costUsd: 0.0042,
    createdAt: 1_700_000_000_000,
    ...fields,
  };
}

function eventRecord(fields: Partial<WorkflowEventRecord> = {}): WorkflowEventRecord {
  return {
    tenantId: 'tenant_a',
    runId: 'run_1',
    seq: 1,
    time: 1_700_000_000_000,
    type: 'run-started',
    nodeId: null,
    data: {},
    ...fields,
  };
}
