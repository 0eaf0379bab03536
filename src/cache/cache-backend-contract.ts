import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Clock } from '../core/index.ts';
import type { CacheBackend } from './cache-backend.ts';
import type { CacheEntry } from './cached-answer.ts';
import { createManualClock } from './test-support.ts';

export interface CacheBackendContractOptions {
  /** Shown in the test names: `memory`, `redis`. */
  name: string;
  /** A backend on the given clock (a manual one the tests move); closed after each test when it has `close`. */
  createBackend: (clock: Clock) => CacheBackend & { close?(): Promise<void> };
}

/**
 * The behaviour every exact-cache backend must have, as node:test tests: call it from the
 * backend's test file.
 *
 * @example
 * runCacheBackendContract({ name: 'memory', createBackend: (clock) => createMemoryCacheBackend({ maxBytes: 1 << 20, clock }) });
 */
export function runCacheBackendContract(options: CacheBackendContractOptions): void {
  async function withBackend(
    run: (
      backend: CacheBackend,
      clock: ReturnType<typeof createManualClock>,
      key: (name: string) => string,
    ) => Promise<void>,
  ): Promise<void> {
    const clock = createManualClock();
    const backend = options.createBackend(clock);
    // Keys unique per test: a shared backend (Redis) outlives one test.
    const runId = randomBytes(6).toString('hex');
    try {
      await run(backend, clock, (name) => `pw:v1:${runId}:${name}`);
    } finally {
      await backend.close?.();
    }
  }

  describe(`cache backend contract: ${options.name}`, () => {
    test('an entry round-trips whole; an unknown key misses', async () => {
      await withBackend(async (backend, clock, key) => {
        const stored = cacheEntry(clock.now(), {
          origin: { provider: 'openai', model: 'gpt-4o-mini', deployment: 'mini', simulated: true },
        });
        await backend.set(key('a'), stored);
        assert.deepEqual(await backend.get(key('a')), stored);
        assert.equal(await backend.get(key('unknown')), undefined);
      });
    });

    test('a reader changing what it got does not change what the next reader gets', async () => {
      await withBackend(async (backend, clock, key) => {
        await backend.set(key('a'), cacheEntry(clock.now()));
        const first = await backend.get(key('a'));
        assert.ok(first !== undefined && first.answer.kind === 'response');
        first.answer.response.id = 'changed';
        first.tenant = 'other';
        const second = await backend.get(key('a'));
        assert.equal(second?.tenant, 'tenant_a');
        assert.equal(
          second?.answer.kind === 'response' ? second.answer.response.id : undefined,
          'chatcmpl-1',
        );
      });
    });

    test('set replaces an entry; delete removes it and ignores an unknown key', async () => {
      await withBackend(async (backend, clock, key) => {
        await backend.set(key('a'), cacheEntry(clock.now(), { tenant: 'first' }));
        await backend.set(key('a'), cacheEntry(clock.now(), { tenant: 'second' }));
        await backend.set(key('b'), cacheEntry(clock.now(), { tenant: 'other key' }));
        assert.equal((await backend.get(key('a')))?.tenant, 'second');
        await backend.delete(key('a'));
        await backend.delete(key('unknown'));
        assert.equal(await backend.get(key('a')), undefined);
        assert.equal((await backend.get(key('b')))?.tenant, 'other key');
      });
    });

    test('an entry expires at its expiresAt on the injected clock; an already expired one is not stored', async () => {
      await withBackend(async (backend, clock, key) => {
        await backend.set(key('a'), cacheEntry(clock.now(), { expiresAt: clock.now() + 60_000 }));
        clock.advance(59_999);
        assert.notEqual(await backend.get(key('a')), undefined);
        clock.advance(1);
        assert.equal(await backend.get(key('a')), undefined);
        await backend.set(key('b'), cacheEntry(clock.now(), { expiresAt: clock.now() }));
        await backend.set(key('c'), cacheEntry(clock.now(), { expiresAt: clock.now() - 1 }));
        assert.equal(await backend.get(key('b')), undefined);
        assert.equal(await backend.get(key('c')), undefined);
      });
    });

    test('a stream answer of many chunks round-trips in order', async () => {
      await withBackend(async (backend, clock, key) => {
        const chunks = Array.from({ length: 200 }, (_, index) => ({
          id: 'chatcmpl-1',
          object: 'chat.completion.chunk' as const,
          created: 1,
          model: 'm',
          choices: [{ index: 0, delta: { content: `part ${index} “ü” ` }, finish_reason: null }],
        }));
        const stored = cacheEntry(clock.now(), { answer: { kind: 'stream', chunks } });
        await backend.set(key('stream'), stored);
        assert.deepEqual(await backend.get(key('stream')), stored);
      });
    });

    test('stats count what is held', async () => {
      await withBackend(async (backend, clock, key) => {
        await backend.set(key('a'), cacheEntry(clock.now()));
        const stats = await backend.stats();
        assert.ok(Number.isInteger(stats.entries) && stats.entries >= 1, `entries ${stats.entries}`);
        assert.ok(Number.isFinite(stats.bytes) && stats.bytes > 0, `bytes ${stats.bytes}`);
      });
    });
  });
}

/** An entry of tenant_a created at `now`, valid for an hour, with the given fields changed. */
export function cacheEntry(now: number, fields: Partial<CacheEntry> = {}): CacheEntry {
  return {
    answer: {
      kind: 'response',
      response: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'cached answer' }, finish_reason: 'stop' },
        ],
      },
    },
    createdAt: now,
    expiresAt: now + 3_600_000,
    tenant: 'tenant_a',
    avoided: { costUsd: 0.002, latencyMs: 800 },
    ...fields,
  };
}
