import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { PipewrightError } from '../core/index.ts';
import type { CallRecord } from '../telemetry/index.ts';
import { runSemanticCacheStoreContract } from './semantic-cache-store-contract.ts';
import type { Store } from './store.ts';

export interface StoreContractOptions {
  /** Shown in the test names: `sqlite (file)`, `postgres`. */
  name: string;
  /**
   * Opens a store at `location`, a fresh identifier (`[a-z0-9_]+`) per test. Opening the same
   * location again must reach the same data when `persistent` is true (a file name, a schema).
   */
  createStore: (location: string) => Promise<Store>;
  /** Whether data outlives `close()` (false for `:memory:`): enables the reopen tests. */
  persistent?: boolean;
}

/**
 * The behaviour every Store implementation must have, as node:test tests. Call it from an
 * implementation's test file.
 *
 * @example
 * runStoreContract({ name: 'sqlite (file)', persistent: true, createStore: (location) => createSqliteStore({ path: join(dir, `${location}.db`) }) });
 */
export function runStoreContract(options: StoreContractOptions): void {
  const { createStore, persistent = false } = options;
  runSemanticCacheStoreContract(options);

  async function withStore<T>(run: (store: Store, location: string) => Promise<T>): Promise<T> {
    const location = `contract_${randomBytes(6).toString('hex')}`;
    const store = await createStore(location);
    try {
      return await run(store, location);
    } finally {
      await store.close();
    }
  }

  describe(`store contract: ${options.name}`, () => {
    test('a record round-trips every field, nulls and booleans included', async () => {
      await withStore(async (store) => {
        const full = callRecord({
          id: 'call_full',
          time: 1_700_000_000_123,
          stepType: 'summarize',
          provider: 'anthropic',
          model: 'claude-sonnet-4-20250514',
          deployment: 'anthropic-sonnet',
          streamed: true,
          inputTokens: 1234,
          outputTokens: 567,
          cachedInputTokens: 1000,
          cacheWriteTokens: 200,
          reasoningTokens: 50,
          latencyMs: 812.25,
          timeToFirstTokenMs: 143.5,
          costUsd: 0.0123456789,
          cacheStatus: 'hit',
          savedCostUsd: 0.0042,
          savedLatencyMs: 731.5,
          outcome: 'error',
          errorCode: 'provider.rate_limited',
          simulated: true,
        });
        const sparse = callRecord({
          id: 'call_sparse',
          time: 1_700_000_000_000,
          stepType: null,
          provider: null,
          model: null,
          deployment: null,
          streamed: false,
          inputTokens: 0,
          outputTokens: 0,
          latencyMs: 0,
          timeToFirstTokenMs: null,
          costUsd: null,
          cacheStatus: 'semantic-hit',
          outcome: 'success',
          errorCode: null,
          simulated: false,
        });
        await store.callRecords.insertMany([sparse, full]);
        const listed = await store.callRecords.list({ tenantId: 'tenant_a' });
        assert.deepEqual(listed, [full, sparse]);
      });
    });

    test('a tenant never sees another tenant’s rows, even when every other field is identical', async () => {
      await withStore(async (store) => {
        const ofA = callRecord({ tenantId: 'tenant_a', id: 'call_same', costUsd: 1 });
        const ofB = { ...ofA, tenantId: 'tenant_b' };
        await store.callRecords.insertMany([ofA]);
        assert.deepEqual(await store.callRecords.list({ tenantId: 'tenant_b' }), []);
        assert.equal((await store.callRecords.summarize({ tenantId: 'tenant_b' })).calls, 0);

        await store.callRecords.insertMany([ofB, { ...ofB, id: 'call_b2', costUsd: 2 }]);
        const listedA = await store.callRecords.list({ tenantId: 'tenant_a' });
        const listedB = await store.callRecords.list({ tenantId: 'tenant_b' });
        assert.deepEqual(listedA, [ofA]);
        assert.equal(listedB.length, 2);
        assert.ok(listedB.every((record) => record.tenantId === 'tenant_b'));
        assert.deepEqual(
          [
            (await store.callRecords.summarize({ tenantId: 'tenant_a' })).costUsd,
            (await store.callRecords.summarize({ tenantId: 'tenant_b' })).costUsd,
          ],
          [1, 3],
        );
        // Tenant ids are compared exactly: no prefix or case folding leaks rows.
        assert.deepEqual(await store.callRecords.list({ tenantId: 'tenant_' }), []);
        assert.deepEqual(await store.callRecords.list({ tenantId: 'TENANT_A' }), []);
      });
    });

    test('every read requires a tenant', async () => {
      await withStore(async (store) => {
        for (const read of [
          () => store.callRecords.list({ tenantId: '' }),
          () => store.callRecords.summarize({ tenantId: '' }),
          () => store.callRecords.list({} as { tenantId: string }),
        ]) {
          await assert.rejects(read, (error: unknown) => isError(error, 'request.invalid', 'tenantId'));
        }
      });
    });

    test('list returns newest first and honours the limit', async () => {
      await withStore(async (store) => {
        const times = [5_000, 1_000, 4_000, 2_000, 3_000];
        await store.callRecords.insertMany(times.map((time) => callRecord({ id: `call_${time}`, time })));
        const all = await store.callRecords.list({ tenantId: 'tenant_a' });
        assert.deepEqual(
          all.map((record) => record.time),
          [5_000, 4_000, 3_000, 2_000, 1_000],
        );
        const two = await store.callRecords.list({ tenantId: 'tenant_a', limit: 2 });
        assert.deepEqual(
          two.map((record) => record.id),
          ['call_5000', 'call_4000'],
        );
      });
    });

    test('list defaults to 100 rows and rejects a limit outside 1..10,000', async () => {
      await withStore(async (store) => {
        await store.callRecords.insertMany(
          Array.from({ length: 150 }, (_, index) => callRecord({ id: `call_${index}`, time: index })),
        );
        const listed = await store.callRecords.list({ tenantId: 'tenant_a' });
        assert.equal(listed.length, 100);
        assert.equal(listed[0]?.time, 149);
        for (const limit of [0, -1, 1.5, 10_001]) {
          await assert.rejects(
            () => store.callRecords.list({ tenantId: 'tenant_a', limit }),
            (error: unknown) => isError(error, 'request.invalid', 'limit'),
          );
        }
      });
    });

    test('since is inclusive, until exclusive, and modelGroup filters', async () => {
      await withStore(async (store) => {
        await store.callRecords.insertMany([
          callRecord({ id: 'call_1', time: 1_000, modelGroup: 'fast' }),
          callRecord({ id: 'call_2', time: 2_000, modelGroup: 'smart' }),
          callRecord({ id: 'call_3', time: 3_000, modelGroup: 'fast' }),
          callRecord({ id: 'call_4', time: 4_000, modelGroup: 'fast' }),
        ]);
        const ids = async (query: {
          since?: number;
          until?: number;
          modelGroup?: string;
        }): Promise<string[]> =>
          (await store.callRecords.list({ tenantId: 'tenant_a', ...query })).map((record) => record.id);
        assert.deepEqual(await ids({ since: 2_000 }), ['call_4', 'call_3', 'call_2']);
        assert.deepEqual(await ids({ until: 3_000 }), ['call_2', 'call_1']);
        assert.deepEqual(await ids({ since: 2_000, until: 4_000 }), ['call_3', 'call_2']);
        assert.deepEqual(await ids({ modelGroup: 'fast', since: 2_000 }), ['call_4', 'call_3']);
        assert.deepEqual(await ids({ since: 5_000 }), []);
        const summary = await store.callRecords.summarize({
          tenantId: 'tenant_a',
          modelGroup: 'fast',
          until: 4_000,
        });
        assert.equal(summary.calls, 2);
        await assert.rejects(
          () => store.callRecords.list({ tenantId: 'tenant_a', since: Number.NaN }),
          (error: unknown) => isError(error, 'request.invalid', 'since'),
        );
      });
    });

    test('summarize adds up calls, errors, tokens, known costs and cache hits', async () => {
      await withStore(async (store) => {
        await store.callRecords.insertMany([
          callRecord({
            id: 'call_1',
            inputTokens: 100,
            outputTokens: 10,
            cachedInputTokens: 40,
            costUsd: 0.001,
            cacheStatus: 'miss',
          }),
          callRecord({
            id: 'call_2',
            inputTokens: 200,
            outputTokens: 20,
            cachedInputTokens: 0,
            costUsd: 0.002,
            cacheStatus: 'bypass',
          }),
          callRecord({
            id: 'call_3',
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            cacheStatus: 'hit',
            savedCostUsd: 0.001,
            savedLatencyMs: 800,
          }),
          callRecord({
            id: 'call_4',
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            cacheStatus: 'semantic-hit',
            savedCostUsd: 0.0025,
            savedLatencyMs: 1200.5,
          }),
          callRecord({
            id: 'call_5',
            inputTokens: 50,
            outputTokens: 0,
            costUsd: null,
            outcome: 'error',
            errorCode: 'provider.timeout',
          }),
          callRecord({ id: 'call_6', inputTokens: 1, outputTokens: 1, costUsd: 5, tenantId: 'tenant_other' }),
        ]);
        assert.deepEqual(await store.callRecords.summarize({ tenantId: 'tenant_a' }), {
          calls: 5,
          errors: 1,
          inputTokens: 350,
          outputTokens: 30,
          cachedInputTokens: 40,
          costUsd: 0.003,
          cacheHits: 2,
          semanticHits: 1,
          savedCostUsd: 0.0035,
          savedLatencyMs: 2000.5,
        });
        assert.deepEqual(await store.callRecords.summarize({ tenantId: 'tenant_empty' }), {
          calls: 0,
          errors: 0,
          inputTokens: 0,
          outputTokens: 0,
          cachedInputTokens: 0,
          costUsd: 0,
          cacheHits: 0,
          semanticHits: 0,
          savedCostUsd: 0,
          savedLatencyMs: 0,
        });
      });
    });

    test('a batch of 1,000 records is stored whole', async () => {
      await withStore(async (store) => {
        const records = Array.from({ length: 1_000 }, (_, index) =>
          callRecord({
            id: `call_${String(index).padStart(4, '0')}`,
            time: 10_000 + index,
            inputTokens: index,
            costUsd: 0.5,
          }),
        );
        await store.callRecords.insertMany(records);
        const listed = await store.callRecords.list({ tenantId: 'tenant_a', limit: 1_000 });
        assert.equal(listed.length, 1_000);
        assert.deepEqual(listed[0], records[999]);
        assert.deepEqual(listed[999], records[0]);
        const summary = await store.callRecords.summarize({ tenantId: 'tenant_a' });
        assert.equal(summary.calls, 1_000);
        assert.equal(summary.inputTokens, (999 * 1_000) / 2);
        assert.equal(summary.costUsd, 500);
      });
    });

    test('a batch is one transaction: one bad record stores none of it', async () => {
      await withStore(async (store) => {
        const good = Array.from({ length: 5 }, (_, index) => callRecord({ id: `call_${index}` }));
        const bad = callRecord({ id: 'call_bad', modelGroup: null as unknown as string });
        await assert.rejects(
          () => store.callRecords.insertMany([...good, bad]),
          (error: unknown) =>
            isError(error, 'store.failure') && error instanceof Error && error.cause !== undefined,
        );
        assert.deepEqual(await store.callRecords.list({ tenantId: 'tenant_a' }), []);
      });
    });

    test('inserting a batch again (a retry) does not duplicate records', async () => {
      await withStore(async (store) => {
        const records = [callRecord({ id: 'call_1' }), callRecord({ id: 'call_2' })];
        await store.callRecords.insertMany(records);
        await store.callRecords.insertMany(records);
        await store.callRecords.insertMany([]);
        assert.equal((await store.callRecords.summarize({ tenantId: 'tenant_a' })).calls, 2);
      });
    });

    test('a closed store rejects reads with store.failure', async () => {
      const store = await createStore(`contract_${randomBytes(6).toString('hex')}`);
      await store.close();
      await store.close();
      await assert.rejects(
        () => store.callRecords.list({ tenantId: 'tenant_a' }),
        (error: unknown) => isError(error, 'store.failure'),
      );
    });

    test(
      'data persists across reopen, and reopening runs migrations idempotently',
      { skip: persistent ? false : 'not a persistent store' },
      async () => {
        const location = `contract_${randomBytes(6).toString('hex')}`;
        const record = callRecord({ id: 'call_kept', costUsd: 0.25, streamed: true });
        const first = await createStore(location);
        await first.callRecords.insertMany([record]);
        await first.close();
        for (let reopen = 0; reopen < 2; reopen += 1) {
          const again = await createStore(location);
          try {
            const listed = await again.callRecords.list({ tenantId: 'tenant_a' });
            assert.equal(listed.length, 1 + reopen);
            assert.deepEqual(
              listed.find((found) => found.id === 'call_kept'),
              record,
            );
            await again.callRecords.insertMany([callRecord({ id: `call_reopen_${reopen}` })]);
          } finally {
            await again.close();
          }
        }
        const last = await createStore(location);
        try {
          assert.equal((await last.callRecords.summarize({ tenantId: 'tenant_a' })).calls, 3);
        } finally {
          await last.close();
        }
      },
    );
  });
}

function isError(error: unknown, code: string, param?: string): boolean {
  return (
    PipewrightError.isInstance(error) && error.code === code && (param === undefined || error.param === param)
  );
}

/** A complete call record for tenant_a with the given fields changed. */
export function callRecord(fields: Partial<CallRecord> = {}): CallRecord {
  return {
    id: 'call_default',
    time: 1_700_000_000_000,
    tenantId: 'tenant_a',
    requestId: 'req_1',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    operation: 'chat',
    stepType: null,
    modelGroup: 'fast',
    provider: 'openai',
    model: 'gpt-4o-mini',
    deployment: 'openai-mini',
    streamed: false,
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    latencyMs: 100,
    timeToFirstTokenMs: null,
    costUsd: 0.0000045,
    cacheStatus: 'miss',
    savedCostUsd: null,
    savedLatencyMs: null,
    outcome: 'success',
    errorCode: null,
    simulated: false,
    ...fields,
  };
}
