import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryCacheBackend } from './cache-backend.ts';
import { cacheEntry, runCacheBackendContract } from './cache-backend-contract.ts';
import { createManualClock } from './test-support.ts';

runCacheBackendContract({ name: 'memory', createBackend: (clock) => createMemoryCacheBackend({ maxBytes: 1 << 20, clock }) });

test('the memory backend drops the least recently used entries past its byte bound', async () => {
  const clock = createManualClock();
  const backend = createMemoryCacheBackend({ maxBytes: 1_000, clock });
  for (const key of ['a', 'b', 'c', 'd']) await backend.set(key, cacheEntry(clock.now()));
  const stats = await backend.stats();
  assert.ok(stats.bytes <= 1_000 && stats.entries < 4, JSON.stringify(stats));
  assert.equal(await backend.get('a'), undefined);
  assert.notEqual(await backend.get('d'), undefined);
});
