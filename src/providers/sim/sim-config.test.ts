import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../core/index.ts';
import { parseSimConfig } from './sim-config.ts';

function configError(value: unknown): ConfigError {
  try {
    parseSimConfig(value);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

describe('parseSimConfig', () => {
  it('accepts a full config and normalises latencies and faults', () => {
    const config = parseSimConfig({
      seed: 9,
      models: ['gpt-4o-mini'],
      rules: [
        {
          match: { model: 'gpt-4o*', endpoint: 'chat', format: 'openai', stream: true },
          latency: 'normal(300,50)',
          ttft: 120,
          chunkDelay: { distribution: 'uniform', min: 1, max: 3 },
          contextWindow: 4096,
          failureRate: 0.05,
          faults: [{ fault: 'status=429; retry-after=2', probability: 0.1 }],
          outages: [{ fromMs: 1000, toMs: 2000 }],
          limits: { requestsPerMinute: 10 },
        },
      ],
    });
    const rule = config.rules?.[0];
    assert.deepEqual(rule?.latency, { distribution: 'normal', mean: 300, stddev: 50 });
    assert.deepEqual(rule?.ttft, { distribution: 'fixed', ms: 120 });
    assert.deepEqual(rule?.faults?.[0]?.fault.fault, { kind: 'status', status: 429, retryAfterMs: 2000 });
    assert.ok(rule?.match?.model?.regex.test('gpt-4o-mini'));
    assert.ok(!(rule?.match?.model?.regex.test('claude-haiku') ?? true));
  });

  it('treats a missing or null config as empty', () => {
    assert.deepEqual(parseSimConfig(undefined), {});
    assert.deepEqual(parseSimConfig(null), {});
  });

  it('names the bad fault string and says why', () => {
    const error = configError({
      rules: [
        {
          faults: [
            { fault: 'status=503', probability: 0.1 },
            { fault: 'status=9000', probability: 0.1 },
          ],
        },
      ],
    });
    assert.equal(error.param, 'rules[0].faults[1].fault');
    assert.match(error.message, /rules\[0\]\.faults\[1\]\.fault: status must be between 400 and 599/);
  });

  it('rejects a fault string that names no fault', () => {
    assert.equal(
      configError({ rules: [{ faults: [{ fault: 'latency=5', probability: 0.5 }] }] }).param,
      'rules[0].faults[0].fault',
    );
  });

  it('rejects times in a config fault', () => {
    assert.match(
      configError({ rules: [{ faults: [{ fault: 'status=500; times=2', probability: 0.5 }] }] }).message,
      /only valid in the x-sim-fault/,
    );
  });

  it('names a bad latency', () => {
    const error = configError({ rules: [{ latency: 'soon' }] });
    assert.equal(error.param, 'rules[0].latency');
    assert.match(error.message, /not a latency/);
  });

  it('names a misspelt key instead of ignoring it', () => {
    const error = configError({ rules: [{ failurRate: 0.1 }] });
    assert.equal(error.param, 'rules[0]');
    assert.match(error.message, /failurRate/);
  });

  it('rejects probabilities that add up to more than 1', () => {
    const error = configError({
      rules: [{ failureRate: 0.6, faults: [{ fault: 'timeout', probability: 0.5 }] }],
    });
    assert.equal(error.param, 'rules[0].faults');
    assert.match(error.message, /add up to 1\.1/);
  });

  it('rejects an outage that ends before it starts', () => {
    assert.equal(
      configError({ rules: [{ outages: [{ fromMs: 5000, toMs: 1000 }] }] }).param,
      'rules[0].outages[0].toMs',
    );
  });

  it('rejects an unknown endpoint and a failure rate above 1', () => {
    assert.equal(
      configError({ rules: [{ match: { endpoint: 'completions' } }] }).param,
      'rules[0].match.endpoint',
    );
    assert.equal(configError({ rules: [{ failureRate: 2 }] }).param, 'rules[0].failureRate');
  });
});
