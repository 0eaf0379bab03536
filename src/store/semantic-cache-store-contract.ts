import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { SemanticCacheRecord } from '../cache/index.ts';
import { PipewrightError } from '../core/index.ts';
import type { Store } from './store.ts';

/**
 * The semantic-cache part of the store contract (run by `runStoreContract`, so every Store
 * implementation passes it).
 *
 * @example
 * runSemanticCacheStoreContract({ name: 'sqlite (file)', persistent: true, createStore });
 */
export function runSemanticCacheStoreContract(options: {
  name: string;
  createStore: (location: string) => Promise<Store>;
  persistent?: boolean;
}): void {
  const { createStore, persistent = false } = options;

  async function withStore<T>(run: (store: Store) => Promise<T>): Promise<T> {
    const store = await createStore(`contract_${randomBytes(6).toString('hex')}`);
    try {
      return await run(store);
    } finally {
      await store.close();
    }
  }

  describe(`semantic cache store contract: ${options.name}`, () => {
    test('a record round-trips every field, the vector as float32', async () => {
      await withStore(async (store) => {
        const stream = semanticRecord({
          id: 'entry_stream',
          vector: [0.1, -0.25, 1e-7, 0].map(Math.fround),
          answer: {
            kind: 'stream',
            chunks: [
              {
                id: 'c1',
                object: 'chat.completion.chunk',
                created: 1,
                model: 'm',
                choices: [{ index: 0, delta: { content: 'héllo “quoted” 🎉' }, finish_reason: null }],
              },
            ],
          },
          avoided: { costUsd: 0.0123456789, latencyMs: 812.25 },
          origin: {
            provider: 'anthropic',
            model: 'claude-sonnet-4-20250514',
            deployment: 'anthropic-sonnet',
            simulated: true,
          },
          createdAt: 1_700_000_000_123,
          expiresAt: 1_700_003_600_123,
        });
        const plain = semanticRecord({ id: 'entry_plain', tenant: 'tenant_b', createdAt: 1_700_000_000_000 });
        await store.semanticCache.save(stream);
        await store.semanticCache.save(plain);
        assert.deepEqual(await store.semanticCache.loadAll(), [plain, stream]);
      });
    });

    test('a vector of 512 dimensions keeps every float32 value exactly', async () => {
      await withStore(async (store) => {
        const vector = Array.from({ length: 512 }, (_, index) => Math.fround(Math.sin(index * 1.7) / 3));
        await store.semanticCache.save(semanticRecord({ vector }));
        assert.deepEqual((await store.semanticCache.loadAll())[0]?.vector, vector);
      });
    });

    test('save replaces the record with the same id; delete removes one and ignores an unknown id', async () => {
      await withStore(async (store) => {
        await store.semanticCache.save(semanticRecord({ id: 'entry_1', text: 'first' }));
        await store.semanticCache.save(semanticRecord({ id: 'entry_2' }));
        const replaced = semanticRecord({
          id: 'entry_1',
          text: 'second',
          vector: [0, 1, 0, 0],
          createdAt: 1_700_000_100_000,
          expiresAt: 1_700_000_200_000,
        });
        await store.semanticCache.save(replaced);
        const loaded = await store.semanticCache.loadAll();
        assert.equal(loaded.length, 2);
        assert.deepEqual(
          loaded.find((record) => record.id === 'entry_1'),
          replaced,
        );
        await store.semanticCache.delete('entry_2');
        await store.semanticCache.delete('entry_unknown');
        assert.deepEqual(
          (await store.semanticCache.loadAll()).map((record) => record.id),
          ['entry_1'],
        );
      });
    });

    test('loadAll returns the oldest first, and deleteExpired drops exactly the expired ones', async () => {
      await withStore(async (store) => {
        const now = 1_700_000_500_000;
        for (const [id, createdAt, expiresAt] of [
          ['entry_c', 3_000, now + 1],
          ['entry_a', 1_000, now - 1],
          ['entry_b', 2_000, now],
          ['entry_d', 4_000, now + 60_000],
        ] as const) {
          await store.semanticCache.save(
            semanticRecord({ id, createdAt: 1_700_000_000_000 + createdAt, expiresAt }),
          );
        }
        assert.deepEqual(
          (await store.semanticCache.loadAll()).map((record) => record.id),
          ['entry_a', 'entry_b', 'entry_c', 'entry_d'],
        );
        assert.equal(await store.semanticCache.deleteExpired(now), 2);
        assert.deepEqual(
          (await store.semanticCache.loadAll()).map((record) => record.id),
          ['entry_c', 'entry_d'],
        );
        assert.equal(await store.semanticCache.deleteExpired(now), 0);
      });
    });

    test('a closed store rejects semantic cache calls with store.failure', async () => {
      const store = await createStore(`contract_${randomBytes(6).toString('hex')}`);
      await store.close();
      for (const call of [
        () => store.semanticCache.loadAll(),
        () => store.semanticCache.save(semanticRecord()),
        () => store.semanticCache.deleteExpired(0),
      ]) {
        await assert.rejects(
          call,
          (error: unknown) => PipewrightError.isInstance(error) && error.code === 'store.failure',
        );
      }
    });

    test(
      'semantic cache entries persist across reopen',
      { skip: persistent ? false : 'not a persistent store' },
      async () => {
        const location = `contract_${randomBytes(6).toString('hex')}`;
        const record = semanticRecord({ id: 'entry_kept' });
        const first = await createStore(location);
        await first.semanticCache.save(record);
        await first.close();
        const again = await createStore(location);
        try {
          assert.deepEqual(await again.semanticCache.loadAll(), [record]);
        } finally {
          await again.close();
        }
      },
    );
  });
}

/** A complete semantic cache record of tenant_a with the given fields changed. */
export function semanticRecord(fields: Partial<SemanticCacheRecord> = {}): SemanticCacheRecord {
  return {
    id: 'entry_default',
    namespace: 'namespace_1',
    tenant: 'tenant_a',
    text: 'How do I reset my password?',
    vector: [0.5, 0.5, -0.5, 0.5],
    answer: {
      kind: 'response',
      response: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Click "forgot password".' },
            finish_reason: 'stop',
          },
        ],
      },
    },
    createdAt: 1_700_000_000_000,
    expiresAt: 1_700_003_600_000,
    avoided: { costUsd: 0.002, latencyMs: 800 },
    ...fields,
  };
}
