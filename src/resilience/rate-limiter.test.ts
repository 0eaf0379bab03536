import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../core/index.ts';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { createMemoryRateLimitStore, createRateLimiter, estimateRequestTokens } from './rate-limiter.ts';

// A minute boundary, so windows line up with the test's steps.
const minuteAligned = 28_333_334 * 60_000;

function setup() {
  const clock = createFakeClock({ epochMs: minuteAligned });
  const store = createMemoryRateLimitStore({ clock });
  return { clock, store, limiter: createRateLimiter({ clock, store }) };
}

test('the sliding window lets the previous minute drain gradually instead of resetting at once', async () => {
  const { clock, store } = setup();
  for (let index = 0; index < 10; index++) assert.deepEqual(await store.consume('k', 1, 10, 60_000), { allowed: true });
  // Room again 6 s into the next minute, once a tenth of this minute's 10 has drained.
  assert.deepEqual(await store.consume('k', 1, 10, 60_000), { allowed: false, retryInMs: 66_000 });
  await clock.advance(60_000);
  // At the start of the next minute all 10 still weigh in; after 6 s, one has drained.
  assert.equal((await store.consume('k', 1, 10, 60_000)).allowed, false);
  await clock.advance(6_000);
  assert.deepEqual(await store.consume('k', 1, 10, 60_000), { allowed: true });
  assert.deepEqual(await store.consume('k', 11, 10, 60_000), { allowed: false, retryInMs: Infinity });
});

test('tokens are estimated up front and settled with the real usage', async () => {
  const { limiter } = setup();
  const limits = { tokensPerMinute: 1_000 };
  const first = await limiter.tryAcquire('tenant:t', limits, 800);
  assert.ok(first.reservation !== null);
  assert.equal((await limiter.tryAcquire('tenant:t', limits, 300)).reservation, null, 'the estimate holds room');
  first.reservation.settle(100);
  const second = await limiter.tryAcquire('tenant:t', limits, 300);
  assert.ok(second.reservation !== null, 'the real usage gave the rest back');
});

test('a request over the token limit gives back its request slot', async () => {
  const { limiter } = setup();
  const limits = { requestsPerMinute: 2, tokensPerMinute: 100 };
  assert.equal((await limiter.tryAcquire('s', limits, 500)).reservation, null);
  assert.equal((await limiter.tryAcquire('s', limits, 500)).reservation, null);
  assert.ok((await limiter.tryAcquire('s', limits, 10)).reservation !== null, 'rejected requests did not use the 2 rpm');
  assert.ok((await limiter.tryAcquire('s', limits, 10)).reservation !== null);
  assert.equal((await limiter.tryAcquire('s', limits, 10)).reservation, null);
});

test('acquire waits for room within its limit, else fails fast with a 429 and a retry-after', async () => {
  const { clock, limiter } = setup();
  const limits = { requestsPerMinute: 1 };
  await limiter.acquire('t', limits, 0, { maxWaitMs: 0 });
  const failed = await limiter.acquire('t', limits, 0, { maxWaitMs: 0 }).catch((error: unknown) => error);
  assert.ok(PipewrightError.isInstance(failed));
  assert.equal(failed.code, 'gateway.rate_limited');
  assert.equal(failed.status, 429);
  // The sliding-window estimate is conservative: one request a minute weighs fully until the next minute drains it.
  assert.equal(failed.details?.retryAfterMs, 120_000);
  const waited = await clock.run(limiter.acquire('t', limits, 0, { maxWaitMs: 200_000 }).then(() => clock.elapsed()));
  assert.equal(waited, 120_000);
});

test('estimateRequestTokens counts about four characters per token plus the answer budget', () => {
  assert.equal(estimateRequestTokens({ messages: [{ content: 'x'.repeat(40) }], max_tokens: 10 }), 20);
  assert.equal(estimateRequestTokens({ messages: [{ content: [{ type: 'text', text: 'hi' }] }] }), 8, 'structured content counts its JSON');
});

test('counters of keys that went quiet are forgotten (tenants come and go)', async () => {
  const { clock, store } = setup();
  for (let index = 0; index < 500; index++) await store.consume(`tenant:${index}`, 1, 10, 60_000);
  assert.equal(store.size(), 500);
  await clock.advance(180_000);
  for (let index = 0; index < 1_000; index++) await store.consume('tenant:busy', 1, 1_000_000, 60_000);
  assert.equal(store.size(), 1, 'only the busy tenant is still held');
});
