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
  for (let index = 0; index < 10; index++)
    assert.deepEqual(await store.consume('k', 1, 10, 60_000), { allowed: true });
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
  assert.equal(
    (await limiter.tryAcquire('tenant:t', limits, 300)).reservation,
    null,
    'the estimate holds room',
  );
  first.reservation.settle(100);
  const second = await limiter.tryAcquire('tenant:t', limits, 300);
  assert.ok(second.reservation !== null, 'the real usage gave the rest back');
});

test('a request over the token limit gives back its request slot', async () => {
  const { limiter } = setup();
  const limits = { requestsPerMinute: 2, tokensPerMinute: 100 };
  assert.equal((await limiter.tryAcquire('s', limits, 500)).reservation, null);
  assert.equal((await limiter.tryAcquire('s', limits, 500)).reservation, null);
  assert.ok(
    (await limiter.tryAcquire('s', limits, 10)).reservation !== null,
    'rejected requests did not use the 2 rpm',
  );
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
  const waited = await clock.run(
    limiter.acquire('t', limits, 0, { maxWaitMs: 200_000 }).then(() => clock.elapsed()),
  );
  assert.equal(waited, 120_000);
});

test('estimateRequestTokens counts about four characters per token plus the answer budget', () => {
  assert.equal(estimateRequestTokens({ messages: [{ content: 'x'.repeat(40) }], max_tokens: 10 }), 20);
  assert.equal(
    estimateRequestTokens({ messages: [{ content: [{ type: 'text', text: 'hi' }] }] }),
    8,
    'structured content counts its JSON',
  );
});

test('counters of keys that went quiet are forgotten (tenants come and go)', async () => {
  const { clock, store } = setup();
  for (let index = 0; index < 500; index++) await store.consume(`tenant:${index}`, 1, 10, 60_000);
  assert.equal(store.size(), 500);
  await clock.advance(180_000);
  for (let index = 0; index < 1_000; index++) await store.consume('tenant:busy', 1, 1_000_000, 60_000);
  assert.equal(store.size(), 1, 'only the busy tenant is still held');
});

test('fair waiting: a noisy tenant with 100 queued requests cannot starve a quiet tenant’s single request', async () => {
  const { clock, limiter } = setup();
  const limits = { requestsPerMinute: 10 };
  for (let index = 0; index < 10; index++)
    await limiter.acquire('deployment:shared', limits, 0, { maxWaitMs: 0, tenant: 'noisy' });
  const granted: string[] = [];
  const wait = { maxWaitMs: 3_600_000 };
  const noisy = Array.from({ length: 100 }, (_, index) =>
    limiter
      .acquire('deployment:shared', limits, 0, { ...wait, tenant: 'noisy' })
      .then(() => granted.push(`noisy ${index}`)),
  );
  const quiet = limiter
    .acquire('deployment:shared', limits, 0, { ...wait, tenant: 'quiet' })
    .then(() => granted.push('quiet'));
  await clock.advance(0);
  assert.equal(limiter.queued('deployment:shared'), 101);
  assert.equal(
    (await limiter.tryAcquire('deployment:shared', limits, 0)).reservation,
    null,
    'a newcomer does not overtake the queue',
  );
  await clock.run(Promise.all([...noisy, quiet]));
  assert.equal(granted.length, 101, 'every waiter was served in the end');
  assert.ok(
    granted.indexOf('quiet') <= 1,
    `the quiet request was served at turn ${granted.indexOf('quiet')}, not after the noisy backlog`,
  );
  assert.deepEqual(
    granted.filter((name) => name !== 'quiet'),
    Array.from({ length: 100 }, (_, index) => `noisy ${index}`),
    'first come, first served within a tenant',
  );
  assert.equal(limiter.queued('deployment:shared'), 0);
  assert.equal(clock.pendingTimers(), 0, 'nothing left behind');
});

test('fair waiting: an aborted or expired waiter leaves the queue at once and leaks nothing', async () => {
  const { clock, limiter } = setup();
  const limits = { requestsPerMinute: 1 };
  await limiter.acquire('s', limits, 0, { maxWaitMs: 0 });
  const controller = new AbortController();
  const aborted = limiter
    .acquire('s', limits, 0, { maxWaitMs: 600_000, signal: controller.signal, tenant: 'a' })
    .catch((error: unknown) => error);
  const lasting = limiter
    .acquire('s', limits, 0, { maxWaitMs: 600_000, tenant: 'b' })
    .then(() => clock.elapsed());
  // c fits the first estimate (room in 120 s) but b is ahead of it, and the room after is at 180 s.
  const expiring = limiter.acquire('s', limits, 0, { maxWaitMs: 130_000, tenant: 'c' }).then(
    () => ({ error: null as unknown, at: clock.elapsed() }),
    (error: unknown) => ({ error, at: clock.elapsed() }),
  );
  await clock.advance(0);
  assert.equal(limiter.queued('s'), 3);
  controller.abort();
  const abortError = await aborted;
  assert.ok(PipewrightError.isInstance(abortError) && abortError.code === 'gateway.rate_limited');
  assert.equal(limiter.queued('s'), 2, 'the aborted waiter left at once');
  const expired = await clock.run(expiring);
  assert.ok(
    PipewrightError.isInstance(expired.error) && expired.error.code === 'gateway.rate_limited',
    'c was refused',
  );
  assert.ok(expired.at <= 130_000, 'no later than the end of its wait');
  assert.equal(await lasting, 120_000, 'b got the next room');
  assert.equal(limiter.queued('s'), 0);
  assert.equal(clock.pendingTimers(), 0, 'no timer left behind');
  // A wait that cannot fit (room again in 120 s, wait of 1 s) is refused at once.
  const tooLate = await limiter
    .acquire('s', limits, 0, { maxWaitMs: 1_000, tenant: 'd' })
    .catch((error: unknown) => error);
  assert.ok(PipewrightError.isInstance(tooLate) && tooLate.code === 'gateway.rate_limited');
  assert.equal(clock.elapsed(), 120_000);
  assert.equal(limiter.queued('s'), 0);
  assert.equal(clock.pendingTimers(), 0);
});

test('fair waiting is bounded: a tenant past its share of the queue is refused at once, others still queue', async () => {
  const clock = createFakeClock({ epochMs: minuteAligned });
  const limiter = createRateLimiter({
    clock,
    store: createMemoryRateLimitStore({ clock }),
    queue: { maxPerTenant: 3, maxWaiters: 10 },
  });
  const limits = { requestsPerMinute: 1 };
  await limiter.acquire('s', limits, 0, { maxWaitMs: 0 });
  const waiting = Array.from({ length: 3 }, () =>
    limiter.acquire('s', limits, 0, { maxWaitMs: 600_000, tenant: 'noisy' }).catch(() => undefined),
  );
  const refused = await limiter
    .acquire('s', limits, 0, { maxWaitMs: 600_000, tenant: 'noisy' })
    .catch((error: unknown) => error);
  assert.ok(
    PipewrightError.isInstance(refused) &&
      refused.code === 'gateway.rate_limited' &&
      /queue is full/.test(refused.message),
  );
  const quiet = limiter.acquire('s', limits, 0, { maxWaitMs: 600_000, tenant: 'quiet' });
  assert.equal(limiter.queued('s'), 4);
  await clock.run(Promise.all([...waiting, quiet]));
  assert.equal(limiter.queued('s'), 0);
});
