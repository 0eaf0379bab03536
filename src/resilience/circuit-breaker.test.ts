import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError, type ProviderErrorKind } from '../core/index.ts';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import {
  createCircuitBreakers,
  defaultBreakerPolicy,
  maxHonouredPauseMs,
  type BreakerTransition,
} from './circuit-breaker.ts';

const failure = (kind: ProviderErrorKind, retryAfterMs?: number) =>
  new ProviderError({
    kind,
    message: kind,
    provider: 'openai',
    deployment: 'd',
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

function setup(policy: Partial<typeof defaultBreakerPolicy> = {}) {
  const clock = createFakeClock();
  const transitions: BreakerTransition[] = [];
  const breakers = createCircuitBreakers({
    clock,
    onTransition: (transition) => transitions.push(transition),
  });
  breakers.register('d', { ...defaultBreakerPolicy, ...policy }, 'hash-1');
  return { clock, breakers, transitions };
}

function fail(
  breakers: ReturnType<typeof setup>['breakers'],
  kind: ProviderErrorKind,
  times: number,
  retryAfterMs?: number,
): void {
  for (let index = 0; index < times; index++) {
    const admission = breakers.admit('d');
    assert.ok(admission.admitted);
    breakers.recordFailure('d', failure(kind, retryAfterMs), admission.probe);
  }
}

test('opens after N consecutive failures, then half-opens after openMs and closes on a successful probe', async () => {
  const { clock, breakers, transitions } = setup({ consecutiveFailures: 3, openMs: 10_000 });
  fail(breakers, 'server_error', 2);
  assert.equal(breakers.state('d'), 'closed');
  fail(breakers, 'server_error', 1);
  assert.equal(breakers.state('d'), 'open');
  assert.deepEqual(breakers.admit('d'), {
    admitted: false,
    retryInMs: 10_000,
    reason: '3 consecutive failures (last provider.server_error)',
  });
  await clock.advance(10_000);
  const probe = breakers.admit('d');
  assert.deepEqual(probe, { admitted: true, probe: true });
  assert.deepEqual(
    breakers.admit('d'),
    { admitted: false, retryInMs: 10_000, reason: 'half-open: a probe is in flight' },
    'one probe at a time',
  );
  breakers.recordSuccess('d', true);
  assert.equal(breakers.state('d'), 'closed');
  assert.deepEqual(
    transitions.map((transition) => transition.to),
    ['open', 'half_open', 'closed'],
  );
  assert.match(transitions[0]?.reason ?? '', /3 consecutive failures/);
});

test('a success resets the consecutive count; the failure rate over the window opens it too', () => {
  const { breakers } = setup({ consecutiveFailures: 100, failureRate: 0.5, minimumCalls: 6 });
  for (let index = 0; index < 3; index++) {
    breakers.recordSuccess('d', false);
    fail(breakers, 'overloaded', 1);
  }
  assert.equal(breakers.state('d'), 'open', '3 of 6 failed = 50%');
  const snapshot = breakers.snapshot()[0];
  assert.equal(snapshot?.windowCalls, 6);
  assert.equal(snapshot?.windowFailures, 3);
});

test('the rate window rolls: old failures stop counting', async () => {
  const { clock, breakers } = setup({
    consecutiveFailures: 100,
    failureRate: 0.5,
    minimumCalls: 4,
    windowMs: 10_000,
  });
  fail(breakers, 'overloaded', 3);
  await clock.advance(20_000);
  fail(breakers, 'overloaded', 1);
  breakers.recordSuccess('d', false);
  breakers.recordSuccess('d', false);
  assert.equal(breakers.state('d'), 'closed');
  assert.equal(breakers.snapshot()[0]?.windowCalls, 3);
});

test('errors about the request never move the breaker', () => {
  const { breakers } = setup({ consecutiveFailures: 1 });
  fail(breakers, 'context_length_exceeded', 3);
  fail(breakers, 'content_filtered', 3);
  fail(breakers, 'invalid_request', 3);
  fail(breakers, 'aborted', 3);
  assert.equal(breakers.state('d'), 'closed');
});

test('the open period follows retry-after, and grows on each failed probe without ever shrinking', async () => {
  const { clock, breakers, transitions } = setup({
    consecutiveFailures: 1,
    openMs: 1_000,
    maxOpenMs: 60_000,
  });
  fail(breakers, 'overloaded', 1, 5_000);
  assert.equal(transitions.at(-1)?.openForMs, 5_000);
  await clock.advance(5_000);
  fail(breakers, 'server_error', 1); // the probe fails: openMs × 2^1
  assert.equal(transitions.at(-1)?.openForMs, 2_000);
  await clock.advance(2_000);
  fail(breakers, 'server_error', 1);
  assert.equal(transitions.at(-1)?.openForMs, 4_000, 'exponential growth on re-open');
  await clock.advance(4_000);
  const probe = breakers.admit('d');
  assert.ok(probe.admitted);
  breakers.recordSuccess('d', probe.probe);
  fail(breakers, 'server_error', 1);
  assert.equal(transitions.at(-1)?.openForMs, 1_000, 'growth resets once closed');
});

test('a 401/403 takes the deployment out until its configuration changes', async () => {
  const { clock, breakers, transitions } = setup({ consecutiveFailures: 5 });
  fail(breakers, 'authentication', 1);
  assert.equal(breakers.state('d'), 'open');
  await clock.advance(3_600_000);
  const admission = breakers.admit('d');
  assert.ok(!admission.admitted);
  assert.equal(admission.retryInMs, null);
  assert.equal(
    admission.reason,
    'credentials refused (provider.authentication): out until its configuration changes',
  );
  // What the caller is told: the original class, not "circuit open".
  assert.equal(admission.refusal?.code, 'provider.authentication');
  assert.equal(admission.refusal?.deployment, 'd');
  assert.match(admission.refusal?.message ?? '', /refused the key of deployment d.*until its configuration/);
  breakers.register('d', defaultBreakerPolicy, 'hash-1');
  assert.equal(breakers.state('d'), 'open', 'the same key stays out');
  breakers.register('d', defaultBreakerPolicy, 'hash-2');
  assert.equal(breakers.state('d'), 'closed');
  assert.equal(transitions.at(-1)?.reason, 'configuration changed');
});

test('a probe that never reports frees its slot after openMs; a neutral outcome releases it', async () => {
  const { clock, breakers } = setup({ consecutiveFailures: 1, openMs: 1_000 });
  fail(breakers, 'server_error', 1);
  await clock.advance(1_000);
  assert.ok(breakers.admit('d').admitted);
  assert.equal(breakers.admit('d').admitted, false);
  await clock.advance(1_000);
  const second = breakers.admit('d');
  assert.ok(second.admitted && second.probe, 'a stuck probe does not hold half-open forever');
  breakers.release('d', true);
  assert.ok(breakers.admit('d').admitted);
});

test('a 429 with retry-after pauses the deployment for exactly that long, then it is back without a probe', async () => {
  const { clock, breakers, transitions } = setup({ consecutiveFailures: 5 });
  fail(breakers, 'rate_limited', 1, 2_000);
  assert.equal(breakers.state('d'), 'open');
  breakers.recordFailure('d', failure('rate_limited', 3_000), false);
  assert.equal(breakers.admit('d').admitted, false);
  assert.equal(breakers.snapshot()[0]?.retryInMs, 3_000, 'a later, longer hint extends the pause');
  await clock.advance(3_000);
  assert.deepEqual(breakers.admit('d'), { admitted: true, probe: false });
  assert.ok(breakers.admit('d').admitted, 'fully closed: no probe limit');
  assert.deepEqual(
    transitions.map((transition) => transition.to),
    ['open', 'closed'],
  );
  fail(breakers, 'rate_limited', 4);
  assert.equal(breakers.state('d'), 'closed', '429s without a hint count like other failures (4 < 5)');
});

test('a 429 asking for 120 s rests the deployment the whole 120 s, far past maxOpenMs (issue 9, point 12)', async () => {
  const { clock, breakers, transitions } = setup({ maxOpenMs: 10_000 });
  fail(breakers, 'rate_limited', 1, 120_000);
  assert.equal(transitions.at(-1)?.openForMs, 120_000);
  await clock.advance(10_000);
  assert.deepEqual(breakers.admit('d'), {
    admitted: false,
    retryInMs: 110_000,
    reason: "rate limited (provider.rate_limited): paused for the provider's retry-after",
    paused: true,
  });
  await clock.advance(109_999);
  assert.equal(breakers.admit('d').admitted, false, 'not one call before the provider said');
  await clock.advance(1);
  assert.deepEqual(breakers.admit('d'), { admitted: true, probe: false });
});

test("a rest asked by a success's rate-limit headers is honoured in full too; a nonsensical one stops at a day", async () => {
  const { clock, breakers } = setup({ maxOpenMs: 10_000 });
  breakers.pause('d', 360_000, 'x-ratelimit-remaining-requests: 0');
  await clock.advance(359_999);
  assert.equal(breakers.admit('d').admitted, false);
  await clock.advance(1);
  assert.ok(breakers.admit('d').admitted);
  breakers.pause('d', 10 * 365 * 86_400_000, 'x-ratelimit-remaining-tokens: 0');
  assert.equal(breakers.snapshot()[0]?.retryInMs, maxHonouredPauseMs);
});

test("a failure's own retry-after longer than maxOpenMs keeps the circuit open that long; growth alone stops at maxOpenMs", async () => {
  const { clock, breakers, transitions } = setup({
    consecutiveFailures: 1,
    openMs: 8_000,
    maxOpenMs: 10_000,
  });
  fail(breakers, 'overloaded', 1, 30_000);
  assert.equal(transitions.at(-1)?.openForMs, 30_000);
  await clock.advance(30_000);
  fail(breakers, 'server_error', 1); // the probe fails, no hint: 8 s × 2 = 16 s, stopped at 10 s
  assert.equal(transitions.at(-1)?.openForMs, 10_000);
});
