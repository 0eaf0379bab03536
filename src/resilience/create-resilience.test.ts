import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { PipewrightError } from '../core/index.ts';
import { createResilience } from './create-resilience.ts';
import { defaultDeadlines, maxDeadlineMs } from './deadline.ts';
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
  assert.equal(resilience.deadlineFor(undefined, undefined, 'chat'), 60_000);
  assert.equal(resilience.deadlineFor(undefined, undefined, 'chatStream'), 60_000, 'one value for all');
  assert.equal(resilience.deadlineFor('interactive', undefined, 'chat'), 5_000);
  assert.equal(resilience.deadlineFor('interactive', 900, 'chat'), 900, "the call's own deadline wins");
  assert.equal(resilience.weightOf('d'), 3);
  assert.equal(resilience.weightOf('other'), 1);
  assert.equal(resilience.maxInFlightOf('d'), 10);
  assert.deepEqual(
    resilience.snapshot().map((entry) => [entry.deployment, entry.state]),
    [['d', 'closed']],
  );
});

test('every call has a deadline: per operation by default, configurable per operation (issue 9, point 18)', () => {
  const bare = createResilience({ clock: createFakeClock() });
  assert.deepEqual(
    (['chat', 'chatStream', 'embeddings', 'images'] as const).map((operation) =>
      bare.deadlineFor(undefined, undefined, operation),
    ),
    [120_000, 600_000, 30_000, 180_000],
  );
  assert.deepEqual(defaultDeadlines, {
    chat: 120_000,
    chatStream: 600_000,
    embeddings: 30_000,
    images: 180_000,
  });
  const tuned = createResilience({
    clock: createFakeClock(),
    defaults: { deadlineMs: { chat: 45_000, embeddings: undefined } },
    stepTypes: [{ name: 'batch', deadlineMs: 900_000 }],
  });
  assert.equal(tuned.deadlineFor(undefined, undefined, 'chat'), 45_000);
  assert.equal(tuned.deadlineFor(undefined, undefined, 'embeddings'), 30_000, 'unset ones keep the default');
  assert.equal(tuned.deadlineFor(undefined, undefined, 'chatStream'), 600_000);
  assert.equal(tuned.deadlineFor('batch', undefined, 'chat'), 900_000);
});

test("only the caller's own deadline (or its step type's) counts as the caller's", () => {
  const resilience = createResilience({
    clock: createFakeClock(),
    defaults: { deadlineMs: 60_000 },
    stepTypes: [{ name: 'batch', deadlineMs: 900_000 }, { name: 'plain' }],
  });
  assert.equal(
    resilience.callerDeadlineFor(undefined, undefined),
    undefined,
    'a default is not the caller’s',
  );
  assert.equal(resilience.callerDeadlineFor('plain', undefined), undefined);
  assert.equal(resilience.callerDeadlineFor('batch', undefined), 900_000);
  assert.equal(resilience.callerDeadlineFor('plain', 5_000), 5_000);
});

test("a call's own deadline outside 1 ms..1 h is a 400 naming deadlineMs, never a timer that fires at once", () => {
  const resilience = createResilience({ clock: createFakeClock() });
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity, maxDeadlineMs + 1, 2 ** 31]) {
    assert.throws(
      () => resilience.deadlineFor(undefined, bad, 'chat'),
      (error: unknown) =>
        PipewrightError.isInstance(error) &&
        error.code === 'request.invalid' &&
        error.status === 400 &&
        error.param === 'deadlineMs',
      String(bad),
    );
  }
  assert.equal(resilience.deadlineFor(undefined, maxDeadlineMs, 'chat'), maxDeadlineMs);
});
