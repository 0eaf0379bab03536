import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRandom } from './create-random.ts';
import { parseDistribution, sampleDistribution } from './parse-distribution.ts';

describe('sampleDistribution', () => {
  it('draws fixed, uniform, normal and lognormal delays within their bounds', () => {
    const random = createRandom(1);
    assert.equal(sampleDistribution(parseDistribution('40'), random), 40);
    for (let index = 0; index < 200; index++) {
      const uniform = sampleDistribution(parseDistribution('uniform(10,20)'), random);
      assert.ok(uniform >= 10 && uniform <= 20, `uniform gave ${uniform}`);
      assert.ok(
        sampleDistribution(parseDistribution('normal(5,50)'), random) >= 0,
        'a normal delay is never negative',
      );
      assert.ok(sampleDistribution(parseDistribution('lognormal(100,0.5)'), random) > 0);
    }
  });

  it('centres a lognormal on its median', () => {
    const random = createRandom(7);
    const samples = Array.from({ length: 2001 }, () =>
      sampleDistribution(parseDistribution('lognormal(200,0.4)'), random),
    ).sort((a, b) => a - b);
    const median = samples[1000] ?? 0;
    assert.ok(median > 180 && median < 220, `median ${median}`);
  });

  it('repeats the same draws for the same seed', () => {
    const draw = (seed: number): number[] => {
      const random = createRandom(seed);
      return Array.from({ length: 5 }, () => sampleDistribution(parseDistribution('normal(100,30)'), random));
    };
    assert.deepEqual(draw(3), draw(3));
    assert.notDeepEqual(draw(3), draw(4));
  });
});
