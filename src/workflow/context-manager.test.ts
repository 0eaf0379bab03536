import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { PipewrightError } from '../core/index.ts';
import { compileWorkflow } from './compile-workflow.ts';
import { createContextManager, type ContextManager, type PreparedWrites } from './context-manager.ts';
import type { WorkflowDefinition } from './workflow-definition.ts';

function workflow(extra: Partial<WorkflowDefinition['context']> = {}) {
  return compileWorkflow(
    {
      id: 'ctx',
      version: 1,
      inputs: ['brief'],
      context: {
        fields: {
          brief: { schema: { type: 'string', minLength: 1 } },
          draft: { schema: { type: 'string' } },
          score: { schema: { type: 'number', minimum: 0, maximum: 1 } },
          secret: { schema: { type: 'string' }, access: { read: ['writer'] } },
          notes: {},
        },
        ...extra,
      },
      nodes: {
        writer: {
          type: 'transform',
          fn: (input) => input,
          reads: ['brief', 'secret'],
          writes: { draft: '$output', notes: '$output' },
        },
        scorer: {
          type: 'transform',
          fn: (input) => input,
          input: '$context.draft',
          writes: { score: '$output' },
        },
      },
    },
    {},
  );
}

function isCode(code: string) {
  return (error: unknown) => PipewrightError.isInstance(error) && error.code === code;
}

async function commit(
  context: ContextManager,
  nodeId: string | null,
  values: Record<string, unknown>,
): Promise<PreparedWrites> {
  const prepared = await context.prepareWrites(nodeId, values);
  context.apply(prepared);
  return prepared;
}

describe('createContextManager', () => {
  test('every write makes a version and a reader sees the snapshot of its version', async () => {
    const context = createContextManager({
      workflow: workflow(),
      tenantId: 't',
      runId: 'r',
      loadBlob: async () => undefined,
      now: () => 1,
    });
    assert.equal((await commit(context, null, { brief: 'tea' })).version, 0);
    const first = await commit(context, 'writer', { draft: 'v1', notes: 'n1' });
    const second = await commit(context, 'writer', { draft: 'v2', notes: 'n2' });
    assert.deepEqual([first.version, second.version], [1, 2]);
    const atOne = context.reader('scorer', 1);
    assert.equal(await atOne.get('draft'), 'v1');
    assert.equal(await context.reader('scorer', 2).get('draft'), 'v2');
    assert.equal(await context.reader('scorer', 0).get('draft'), undefined);
    assert.deepEqual(await context.snapshot(1), { brief: 'tea', draft: 'v1', notes: 'n1' });
  });

  test('reads outside a node’s permissions fail loudly, as do writes it did not declare', async () => {
    const context = createContextManager({
      workflow: workflow(),
      tenantId: 't',
      runId: 'r',
      loadBlob: async () => undefined,
      now: () => 1,
    });
    await commit(context, null, { brief: 'tea' });
    // scorer binds only $context.draft, so brief is outside its reads.
    await assert.rejects(
      () => context.reader('scorer', 0).get('brief'),
      isCode('workflow.permission_denied'),
    );
    await assert.rejects(
      () => context.reader('scorer', 0).get('secret'),
      isCode('workflow.permission_denied'),
    );
    await assert.rejects(
      () => context.reader('scorer', 0).get('nonexistent'),
      isCode('workflow.permission_denied'),
    );
    assert.equal(await context.reader('writer', 0).get('brief'), 'tea');
    await assert.rejects(
      () => context.prepareWrites('scorer', { draft: 'sneaky' }),
      (error: unknown) =>
        isCode('workflow.permission_denied')(error) && (error as PipewrightError).param === 'draft',
    );
  });

  test('writes that break a field schema or a validation rule are refused, naming the field', async () => {
    const rules = [
      {
        id: 'draft-mentions-brief',
        check: (values: Readonly<Record<string, unknown>>) =>
          typeof values.draft !== 'string' || values.draft.includes(String(values.brief))
            ? true
            : 'the draft must mention the brief',
      },
    ];
    const context = createContextManager({
      workflow: workflow({ rules }),
      tenantId: 't',
      runId: 'r',
      loadBlob: async () => undefined,
      now: () => 1,
    });
    await assert.rejects(
      () => context.prepareWrites(null, { brief: '' }),
      (error: unknown) =>
        isCode('workflow.context_invalid')(error) &&
        /brief: .*(fewer|short|must NOT)/i.test((error as Error).message),
    );
    await commit(context, null, { brief: 'tea' });
    await assert.rejects(
      () => commit(context, 'scorer', { score: 7 }),
      (error: unknown) => isCode('workflow.context_invalid')(error) && /score/.test((error as Error).message),
    );
    await assert.rejects(
      () => commit(context, 'writer', { draft: 'coffee', notes: 1 }),
      /the draft must mention the brief/,
    );
    await commit(context, 'writer', { draft: 'tea time', notes: 1 });
    assert.equal(context.version, 1, 'refused writes made no version');
  });

  test('large values are kept by reference (sha256) and loaded on read', async () => {
    const blobs = new Map<string, string>();
    const big = 'x'.repeat(500);
    const first = createContextManager({
      workflow: workflow({ blobThresholdBytes: 100 }),
      tenantId: 't',
      runId: 'r',
      loadBlob: async (hash) => blobs.get(hash),
      now: () => 1,
    });
    await commit(first, null, { brief: 'tea' });
    const prepared = await commit(first, 'writer', { draft: big, notes: 'small' });
    const json = JSON.stringify(big);
    const hash = createHash('sha256').update(json).digest('hex');
    assert.deepEqual(prepared.blobs, [{ hash, content: json }]);
    const draftRecord = prepared.records.find((record) => record.field === 'draft');
    assert.equal(draftRecord?.valueJson, null);
    assert.equal(draftRecord?.blobHash, hash);
    assert.equal(prepared.records.find((record) => record.field === 'notes')?.valueJson, '"small"');

    // A second manager built from the persisted records loads the blob when read.
    for (const blob of prepared.blobs) blobs.set(blob.hash, blob.content);
    let loads = 0;
    const history = [...(await first.prepareWrites(null, {})).records, ...prepared.records];
    const second = createContextManager({
      workflow: workflow({ blobThresholdBytes: 100 }),
      tenantId: 't',
      runId: 'r',
      history,
      loadBlob: async (wanted) => {
        loads += 1;
        return blobs.get(wanted);
      },
      now: () => 1,
    });
    assert.equal(await second.reader('scorer', 1).get('draft'), big);
    assert.equal(await second.reader('scorer', 1).get('draft'), big);
    assert.equal(loads, 1, 'a loaded blob is cached');
  });

  test('history is bounded: old versions are truncated, each field keeps its value, pinned versions stay readable', async () => {
    const context = createContextManager({
      workflow: workflow({ history: { maxVersions: 3 } }),
      tenantId: 't',
      runId: 'r',
      loadBlob: async () => undefined,
      now: () => 1,
    });
    await commit(context, null, { brief: 'tea' });
    context.pin(1);
    const truncatedAll: Array<{ field: string; version: number }> = [];
    for (let index = 1; index <= 6; index += 1)
      truncatedAll.push(...(await commit(context, 'writer', { draft: `v${index}`, notes: index })).truncated);
    // Version 1 is pinned (a node reads it), so nothing at or above it goes.
    assert.equal(await context.reader('scorer', 1).get('draft'), 'v1');
    assert.deepEqual(truncatedAll, []);
    context.unpin(1);
    const truncated = (await commit(context, 'writer', { draft: 'v7', notes: 7 })).truncated;
    assert.ok(truncated.length > 0);
    assert.ok(truncated.every((entry) => entry.version < 5));
    await assert.rejects(
      () => context.reader('scorer', 1).get('draft'),
      isCode('workflow.context_version_gone'),
    );
    assert.equal(
      await context.reader('writer', 7).get('brief'),
      'tea',
      'the input written at version 0 survives truncation',
    );
    assert.equal(await context.reader('scorer', 5).get('draft'), 'v5');
  });
});
