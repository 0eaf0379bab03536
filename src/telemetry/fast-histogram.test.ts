import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { createFastHistogram } from './fast-histogram.ts';

describe('createFastHistogram', () => {
  it('renders exactly what a prom-client histogram renders for the same observations', async () => {
    const reference = new Registry();
    const fast = new Registry();
    const expected = new Histogram({
      name: 'x_seconds',
      help: 'X.',
      labelNames: ['route', 'code'],
      buckets: [0.1, 0.25, 1],
      registers: [reference],
    });
    const actual = createFastHistogram({
      name: 'x_seconds',
      help: 'X.',
      labelNames: ['route', 'code'],
      buckets: [0.1, 0.25, 1],
      registry: fast,
    });
    const plainExpected = new Histogram({ name: 'y', help: 'Y.', buckets: [1, 2], registers: [reference] });
    const plainActual = createFastHistogram({ name: 'y', help: 'Y.', buckets: [1, 2], registry: fast });
    const boundA = actual.labels({ route: '/a', code: 'x' });
    for (const value of [0.05, 0.1, 0.3, 5, 0.2]) {
      expected.labels({ route: '/a', code: 'x' }).observe(value);
      boundA.observe(value);
      expected.labels({ code: 'y', route: '/b' }).observe(value * 2);
      actual.labels({ code: 'y', route: '/b' }).observe(value * 2);
      plainExpected.observe(value);
      plainActual.observe(value);
    }
    assert.equal(await fast.metrics(), await reference.metrics());
  });

  it('keeps counting through a bound child after the registry is reset', async () => {
    const registry = new Registry();
    const histogram = createFastHistogram({
      name: 'z',
      help: 'Z.',
      labelNames: ['route'],
      buckets: [1],
      registry,
    });
    const child = histogram.labels({ route: '/a' });
    child.observe(0.5);
    registry.resetMetrics();
    child.observe(2);
    const text = await registry.metrics();
    assert.match(text, /z_bucket\{le="1",route="\/a"\} 0/);
    assert.match(text, /z_count\{route="\/a"\} 1/);
  });

  it('rejects unknown labels and values that are not finite numbers', () => {
    const histogram = createFastHistogram({
      name: 'w',
      help: 'W.',
      labelNames: ['route'],
      buckets: [1],
      registry: new Registry(),
    });
    assert.throws(() => histogram.labels({ method: 'GET' }), /unknown label "method"/);
    assert.throws(() => histogram.observe(Number.NaN), /not a valid number/);
  });
});
