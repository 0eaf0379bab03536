import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../core/index.ts';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { createBulkhead } from './bulkhead.ts';

test('caps calls in flight per key; a full key fails fast with gateway.overloaded', async () => {
  const bulkhead = createBulkhead({ clock: createFakeClock() });
  assert.ok(bulkhead.tryAcquire('deployment:a', 2));
  assert.ok(bulkhead.tryAcquire('deployment:a', 2));
  assert.equal(bulkhead.tryAcquire('deployment:a', 2), false);
  assert.ok(bulkhead.tryAcquire('deployment:b', 2), 'keys are independent');
  await assert.rejects(
    bulkhead.acquire('deployment:a', 2, { maxWaitMs: 0 }),
    (error: unknown) =>
      PipewrightError.isInstance(error) && error.code === 'gateway.overloaded' && error.status === 429,
  );
  bulkhead.release('deployment:a');
  assert.ok(bulkhead.tryAcquire('deployment:a', 2));
});

test('waiters are served first come, first served when a slot frees, and give up at their wait limit', async () => {
  const clock = createFakeClock();
  const bulkhead = createBulkhead({ clock });
  await bulkhead.acquire('tenant:t', 1, { maxWaitMs: 0 });
  const order: string[] = [];
  const first = bulkhead.acquire('tenant:t', 1, { maxWaitMs: 1_000 }).then(() => order.push('first'));
  const second = bulkhead.acquire('tenant:t', 1, { maxWaitMs: 1_000 }).then(() => order.push('second'));
  const late = bulkhead.acquire('tenant:t', 1, { maxWaitMs: 100 }).then(
    () => 'granted',
    (error: unknown) => (PipewrightError.isInstance(error) ? error.code : 'other'),
  );
  assert.equal(bulkhead.tryAcquire('tenant:t', 1), false, 'a newcomer cannot overtake the line');
  assert.equal(bulkhead.queued('tenant:t'), 3);
  await clock.advance(100);
  assert.equal(await late, 'gateway.overloaded');
  bulkhead.release('tenant:t');
  await first;
  bulkhead.release('tenant:t');
  await second;
  assert.deepEqual(order, ['first', 'second']);
  assert.equal(bulkhead.inFlight('tenant:t'), 1);
  bulkhead.release('tenant:t');
  assert.equal(bulkhead.inFlight('tenant:t'), 0);
});

test('a waiter whose request is aborted leaves the line', async () => {
  const bulkhead = createBulkhead({ clock: createFakeClock() });
  assert.ok(bulkhead.tryAcquire('k', 1));
  const controller = new AbortController();
  const waiting = bulkhead.acquire('k', 1, { maxWaitMs: 60_000, signal: controller.signal });
  controller.abort();
  await assert.rejects(
    waiting,
    (error: unknown) => PipewrightError.isInstance(error) && error.code === 'gateway.overloaded',
  );
  assert.equal(bulkhead.queued('k'), 0);
});

test('a shared key hands freed slots round-robin between tenants: 100 noisy waiters do not starve one quiet waiter', async () => {
  const clock = createFakeClock();
  const bulkhead = createBulkhead({ clock });
  assert.ok(bulkhead.tryAcquire('deployment:shared', 1));
  const served: string[] = [];
  const noisy = Array.from({ length: 100 }, (_, index) =>
    bulkhead
      .acquire('deployment:shared', 1, { maxWaitMs: 60_000, tenant: 'noisy' })
      .then(() => served.push(`noisy ${index}`)),
  );
  const quiet = bulkhead
    .acquire('deployment:shared', 1, { maxWaitMs: 60_000, tenant: 'quiet' })
    .then(() => served.push('quiet'));
  for (let index = 0; index < 101; index++) {
    bulkhead.release('deployment:shared');
    await clock.advance(0);
  }
  await Promise.all([...noisy, quiet]);
  assert.ok(served.indexOf('quiet') <= 1, `quiet served at turn ${served.indexOf('quiet')}`);
  assert.equal(bulkhead.queued('deployment:shared'), 0);
  bulkhead.release('deployment:shared');
  assert.equal(bulkhead.inFlight('deployment:shared'), 0);
  assert.equal(clock.pendingTimers(), 0, 'every wait timer was cancelled');
});

test('the line is bounded: past it a waiter is refused at once', async () => {
  const bulkhead = createBulkhead({ clock: createFakeClock(), queue: { maxPerTenant: 2 } });
  assert.ok(bulkhead.tryAcquire('k', 1));
  const waiting = [
    bulkhead.acquire('k', 1, { maxWaitMs: 1_000, tenant: 't' }),
    bulkhead.acquire('k', 1, { maxWaitMs: 1_000, tenant: 't' }),
  ];
  await assert.rejects(
    bulkhead.acquire('k', 1, { maxWaitMs: 1_000, tenant: 't' }),
    (error: unknown) => PipewrightError.isInstance(error) && error.code === 'gateway.overloaded',
  );
  assert.equal(bulkhead.queued('k'), 2);
  bulkhead.release('k');
  bulkhead.release('k');
  await Promise.all(waiting);
});
