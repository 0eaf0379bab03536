import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeploymentStats, orderDeployments } from './load-balancer.ts';

const deployments = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('ordered keeps the configured order (the same array, no copy)', () => {
  const stats = createDeploymentStats();
  assert.equal(
    orderDeployments(deployments, 'ordered', { stats, random: Math.random, weightOf: () => 1 }),
    deployments,
  );
});

test('weighted puts each deployment first in proportion to its weight', () => {
  const stats = createDeploymentStats();
  const weights: Record<string, number> = { a: 1, b: 3, c: 0 };
  const random = seeded(42);
  const firsts: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let index = 0; index < 4_000; index++) {
    const order = orderDeployments(deployments, 'weighted', {
      stats,
      random,
      weightOf: (d) => weights[d.id] ?? 1,
    });
    assert.equal(order.length, 3, 'every deployment stays in the chain');
    assert.equal(order.at(-1)?.id, 'c', 'weight 0 only as a last fallback');
    firsts[order[0]?.id ?? 'x']! += 1;
  }
  const share = firsts.b! / 4_000;
  assert.ok(share > 0.7 && share < 0.8, `b first ${share}`);
  assert.equal(firsts.c, 0);
});

test('least-busy prefers fewer calls in flight; lowest-latency measures the unmeasured first', () => {
  const stats = createDeploymentStats({ alpha: 0.5 });
  stats.begin('a');
  stats.begin('a');
  stats.begin('b');
  assert.deepEqual(
    orderDeployments(deployments, 'least-busy', { stats, random: Math.random, weightOf: () => 1 }).map(
      (d) => d.id,
    ),
    ['c', 'b', 'a'],
  );
  stats.observeLatency('a', 100);
  stats.observeLatency('b', 300);
  stats.observeLatency('b', 100); // EWMA 200
  assert.equal(stats.latencyMs('b'), 200);
  assert.deepEqual(
    orderDeployments(deployments, 'lowest-latency', { stats, random: Math.random, weightOf: () => 1 }).map(
      (d) => d.id,
    ),
    ['c', 'a', 'b'],
  );
  stats.observeLatency('c', 1_000);
  assert.deepEqual(
    orderDeployments(deployments, 'lowest-latency', { stats, random: Math.random, weightOf: () => 1 }).map(
      (d) => d.id,
    ),
    ['a', 'b', 'c'],
  );
});
