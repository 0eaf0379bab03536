import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError, ProviderError, type ProviderErrorKind } from '../core/index.ts';
import { computeBackoffMs, decideRetry, defaultRetryPolicy } from './retry-policy.ts';

const error = (kind: ProviderErrorKind, retryAfterMs?: number) =>
  new ProviderError({
    kind,
    message: kind,
    provider: 'openai',
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

test('backoff is full jitter under an exponential cap', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1_000 };
  assert.equal(
    computeBackoffMs(policy, 1, () => 0.999),
    99,
  );
  assert.equal(
    computeBackoffMs(policy, 3, () => 0.5),
    200,
  );
  assert.equal(
    computeBackoffMs(policy, 10, () => 0.5),
    500,
    'capped at maxDelayMs',
  );
  assert.equal(
    computeBackoffMs(policy, 2, () => 0),
    0,
    'full jitter reaches zero',
  );
});

test('transient errors are retried until maxAttempts', () => {
  assert.deepEqual(
    decideRetry(defaultRetryPolicy, error('overloaded'), 1, Infinity, () => 0.5),
    { retry: true, delayMs: 125 },
  );
  assert.deepEqual(
    decideRetry(defaultRetryPolicy, error('server_error'), 3, Infinity, () => 0.5),
    { retry: false, reason: 'attempts_exhausted' },
  );
});

test('permanent errors are never retried on the same deployment', () => {
  for (const kind of [
    'authentication',
    'permission_denied',
    'invalid_request',
    'quota_exhausted',
    'context_length_exceeded',
    'content_filtered',
    'aborted',
    'not_found',
  ] as const) {
    assert.deepEqual(
      decideRetry(defaultRetryPolicy, error(kind), 1, Infinity, () => 0.5),
      { retry: false, reason: 'permanent' },
      kind,
    );
  }
  const gatewayError = new PipewrightError({ code: 'gateway.internal', message: 'bug' });
  assert.equal(decideRetry(defaultRetryPolicy, gatewayError, 1, Infinity, () => 0.5).retry, false);
});

test('retry-after is honoured exactly, but never past the deadline or the configured ceiling', () => {
  assert.deepEqual(
    decideRetry(defaultRetryPolicy, error('rate_limited', 2_000), 1, 10_000, () => 0.1),
    { retry: true, delayMs: 2_000 },
  );
  assert.deepEqual(
    decideRetry(defaultRetryPolicy, error('rate_limited', 2_000), 1, 1_500, () => 0.1),
    { retry: false, reason: 'deadline' },
  );
  assert.deepEqual(
    decideRetry(
      { ...defaultRetryPolicy, maxRetryAfterMs: 1_000 },
      error('rate_limited', 2_000),
      1,
      Infinity,
      () => 0.1,
    ),
    { retry: false, reason: 'retry_after_too_long' },
  );
  assert.deepEqual(
    decideRetry(defaultRetryPolicy, error('overloaded'), 1, 100, () => 0.99),
    { retry: false, reason: 'deadline' },
    'a backoff longer than the time left is not started',
  );
});
