import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { createFallbackRateLimitStore } from './create-shared-rate-limit-store.ts';
import { createMemoryRateLimitStore, type RateLimitStore } from './rate-limiter.ts';

test('the fallback store survives a failing shared store, says so once, and goes back to it when it answers again', async () => {
  const clock = createFakeClock();
  let down = false;
  let primaryCalls = 0;
  const shared = createMemoryRateLimitStore({ clock });
  const primary: RateLimitStore = {
    consume: async (...args) => {
      primaryCalls += 1;
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      return shared.consume(...args);
    },
    adjust: async (...args) => {
      primaryCalls += 1;
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      return shared.adjust(...args);
    },
  };
  const events: string[] = [];
  const store = createFallbackRateLimitStore({
    primary,
    fallback: createMemoryRateLimitStore({ clock }),
    clock,
    probeIntervalMs: 1_000,
    onDegraded: (error) => events.push(`degraded: ${(error as Error).message}`),
    onRecovered: () => events.push('recovered'),
  });
  assert.deepEqual(await store.consume('k', 1, 2, 60_000), { allowed: true });
  down = true;
  // Redis is down: answers keep coming (from the in-process counters), and the limit still holds there.
  assert.deepEqual(await store.consume('k', 1, 2, 60_000), { allowed: true });
  assert.deepEqual(await store.consume('k', 1, 2, 60_000), { allowed: true });
  assert.equal((await store.consume('k', 1, 2, 60_000)).allowed, false);
  assert.equal(store.degraded(), true);
  assert.equal(
    primaryCalls,
    2,
    'while degraded, the shared store is tried once per probe interval, not on every call',
  );
  assert.deepEqual(events, ['degraded: connect ECONNREFUSED 127.0.0.1:6379'], 'logged once, not per call');
  down = false;
  await clock.advance(1_000);
  assert.deepEqual(
    await store.consume('k', 1, 2, 60_000),
    { allowed: true },
    'back on the shared counters, where 1 of 2 was taken',
  );
  assert.equal((await store.consume('k', 1, 2, 60_000)).allowed, false);
  assert.equal(store.degraded(), false);
  assert.deepEqual(events.at(-1), 'recovered');
});
