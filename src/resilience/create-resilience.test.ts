import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { createResilience } from './create-resilience.ts';
import { defaultRetryPolicy } from './retry-policy.ts';

test('policies merge defaults ← deployment ← step type, field by field', () => {
  const resilience = createResilience({
    clock: createFakeClock(),
    defaults: {
      retry: { maxAttempts: 2, initialDelayMs: 100 },
      timeouts: { idleMs: 30_000 },
      deadlineMs: 60_000,
    },
    deployments: [
      {
        id: 'd',
        configHash: 'h',
        retry: { maxAttempts: 5, maxDelayMs: undefined },
        timeouts: { firstTokenMs: 8_000 },
        weight: 3,
        maxInFlight: 10,
      },
    ],
    stepTypes: [{ name: 'interactive', retry: { maxAttempts: 1 }, deadlineMs: 5_000 }],
  });
  assert.deepEqual(resilience.policyFor('d', undefined), {
    retry: { ...defaultRetryPolicy, maxAttempts: 5, initialDelayMs: 100 },
    timeouts: { idleMs: 30_000, firstTokenMs: 8_000 },
  });
  assert.equal(resilience.policyFor('d', 'interactive').retry.maxAttempts, 1, 'the step type wins');
  assert.equal(resilience.policyFor('d', 'interactive').retry.initialDelayMs, 100);
  assert.equal(
    resilience.policyFor('other', undefined).retry.maxAttempts,
    2,
    'unknown deployments get the defaults',
  );
  assert.equal(
    resilience.policyFor('d', undefined),
    resilience.policyFor('d', undefined),
    'resolved once, then cached',
  );
  assert.equal(resilience.deadlineFor(undefined, undefined), 60_000);
  assert.equal(resilience.deadlineFor('interactive', undefined), 5_000);
  assert.equal(resilience.deadlineFor('interactive', 900), 900, "the call's own deadline wins");
  assert.equal(resilience.weightOf('d'), 3);
  assert.equal(resilience.weightOf('other'), 1);
  assert.equal(resilience.maxInFlightOf('d'), 10);
  assert.deepEqual(
    resilience.snapshot().map((entry) => [entry.deployment, entry.state]),
    [['d', 'closed']],
  );
});
