// Integration test against the real Redis on 127.0.0.1:6379 (a unique key prefix per run).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { createRateLimiter, type RateLimitStore } from './rate-limiter.ts';
import { createRedisRateLimitStore } from './redis-rate-limit-store.ts';

const prefix = `pipewright-test:${process.pid}:${Date.now()}:`;
const connections: Redis[] = [];

// Redis counts in windows of its own clock: one window of a thousand years in these tests, so a
// test never straddles two (the limiter's minute would, now and then).
const millennium = 1000 * 365 * 86_400_000;
function withOneWindow(store: RateLimitStore): RateLimitStore {
  return {
    consume: (key, amount, limit) => store.consume(key, amount, limit, millennium),
    adjust: (key, delta) => store.adjust(key, delta, millennium),
  };
}

function connect(): Redis {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false, maxRetriesPerRequest: 1 });
  connections.push(redis);
  return redis;
}

before(async () => {
  await connect().ping();
});

after(async () => {
  const cleanup = connections[0];
  if (cleanup !== undefined) {
    const keys = await cleanup.keys(`${prefix}*`);
    if (keys.length > 0) await cleanup.del(...keys);
  }
  await Promise.all(connections.map((redis) => redis.quit()));
});

test('three limiters on three connections share one limit (it is not multiplied by the replicas)', async () => {
  const clock = createFakeClock();
  const limiters = [connect(), connect(), connect()].map((redis) =>
    createRateLimiter({ clock, store: withOneWindow(createRedisRateLimitStore({ redis, prefix })) }),
  );
  const limits = { requestsPerMinute: 30 };
  const outcomes = await Promise.all(
    Array.from({ length: 90 }, (_, index) => limiters[index % 3]!.tryAcquire('deployment:shared', limits, 0)),
  );
  assert.equal(outcomes.filter((outcome) => outcome.reservation !== null).length, 30);
  const refused = outcomes.find((outcome) => outcome.reservation === null);
  assert.ok(
    refused !== undefined &&
      refused.reservation === null &&
      refused.retryInMs > 0 &&
      Number.isFinite(refused.retryInMs),
  );
});

test('token estimates are settled in Redis with the real usage', async () => {
  const shared = createRedisRateLimitStore({ redis: connect(), prefix });
  const limiter = createRateLimiter({ clock: createFakeClock(), store: withOneWindow(shared) });
  const limits = { tokensPerMinute: 1_000 };
  const first = await limiter.tryAcquire('tenant:settle', limits, 900);
  assert.ok(first.reservation !== null);
  assert.equal((await limiter.tryAcquire('tenant:settle', limits, 200)).reservation, null);
  first.reservation.settle(100);
  // No sleep: the settlement is sent first on the same connection, and Redis runs a connection's
  // commands in order, so the next consume sees it.
  assert.ok((await limiter.tryAcquire('tenant:settle', limits, 200)).reservation !== null);
  assert.deepEqual(await shared.consume('tenant:huge', 5_000, 1_000, 60_000), {
    allowed: false,
    retryInMs: Infinity,
  });
});
