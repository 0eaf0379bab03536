import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryCacheBackend } from './cache-backend.ts';
import { cacheEntry, runCacheBackendContract } from './cache-backend-contract.ts';
import { createManualClock } from './test-support.ts';

runCacheBackendContract({
  name: 'memory',
  createBackend: (clock) => createMemoryCacheBackend({ maxBytes: 1 << 20, clock }),
});

test('the memory backend drops the least recently used entries past its byte bound', async () => {
  const clock = createManualClock();
  const backend = createMemoryCacheBackend({ maxBytes: 1_000, clock });
  for (const key of ['a', 'b', 'c', 'd']) await backend.set(key, cacheEntry(clock.now()));
  const stats = await backend.stats();
  assert.ok(stats.bytes <= 1_000 && stats.entries < 4, JSON.stringify(stats));
  assert.equal(await backend.get('a'), undefined);
  assert.notEqual(await backend.get('d'), undefined);
});

test('with a per-tenant bound, a busy tenant evicts its own oldest entries, never another tenant’s', async () => {
  const clock = createManualClock();
  const entrySize = JSON.stringify(cacheEntry(clock.now())).length + 'a-0'.length + 16;
  // Room for 20 entries in all, 3 per tenant.
  const backend = createMemoryCacheBackend({
    maxBytes: entrySize * 20,
    maxBytesPerTenant: entrySize * 3 + 10,
    clock,
  });
  await backend.set('b-0', cacheEntry(clock.now(), { tenant: 'tenant_b' }));
  for (let index = 0; index < 10; index++) await backend.set(`a-${index}`, cacheEntry(clock.now()));
  assert.notEqual(await backend.get('b-0'), undefined, 'the quiet tenant keeps its entry');
  assert.deepEqual(
    await Promise.all(
      ['a-6', 'a-7', 'a-8', 'a-9'].map(async (key) => (await backend.get(key)) !== undefined),
    ),
    [false, true, true, true],
  );
  // Reading refreshes an entry within its tenant's order: a-7 now outlives a-8.
  await backend.get('a-7');
  await backend.set('a-10', cacheEntry(clock.now()));
  assert.notEqual(await backend.get('a-7'), undefined);
  assert.equal(await backend.get('a-8'), undefined);
  // Overwriting and deleting keep the share exact: the tenant can still hold three.
  await backend.set('a-10', cacheEntry(clock.now()));
  await backend.delete('a-9');
  await backend.set('a-11', cacheEntry(clock.now()));
  assert.equal((await backend.stats()).entries, 4);
});
