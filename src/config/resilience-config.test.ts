// The resilience section's bounds (issue 9, point 18): every duration has a ceiling, and the
// default deadline can be set per operation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../core/index.ts';
import { parseConfig } from './load-config.ts';

function rejects(resilience: Record<string, unknown>, param: string): void {
  assert.throws(
    () => parseConfig({ resilience }),
    (error: unknown) => error instanceof ConfigError && error.param === param,
    param,
  );
}

test('resilience.deadlineMs is one value for every operation or one per operation', () => {
  assert.equal(parseConfig({}).resilience.deadlineMs, undefined, 'unset: the built-in defaults apply');
  assert.equal(parseConfig({ resilience: { deadlineMs: 45_000 } }).resilience.deadlineMs, 45_000);
  assert.deepEqual(
    parseConfig({ resilience: { deadlineMs: { chat: 45_000, images: 300_000 } } }).resilience.deadlineMs,
    { chat: 45_000, images: 300_000 },
  );
  rejects({ deadlineMs: { chat: 45_000, audio: 1 } }, 'resilience.deadlineMs');
});

test('no resilience duration may exceed an hour (a timer past 2^31 ms would fire at once)', () => {
  rejects({ deadlineMs: 3_600_001 }, 'resilience.deadlineMs');
  rejects({ deadlineMs: 2 ** 32 }, 'resilience.deadlineMs');
  rejects({ connectTimeoutMs: 86_400_000 }, 'resilience.connectTimeoutMs');
  rejects({ timeouts: { idleMs: 2 ** 31 } }, 'resilience.timeouts.idleMs');
  rejects({ retry: { maxRetryAfterMs: 86_400_000 } }, 'resilience.retry.maxRetryAfterMs');
  rejects({ breaker: { maxOpenMs: 10 ** 12 } }, 'resilience.breaker.maxOpenMs');
  rejects({ waitForRecoveryMs: 10 ** 9 }, 'resilience.waitForRecoveryMs');
  assert.throws(
    () =>
      parseConfig({
        deployments: [],
        modelGroups: [],
        stepTypes: [{ name: 's', modelGroup: 'g', prompt: 'p', deadlineMs: 10 ** 10 }],
      }),
    (error: unknown) => error instanceof ConfigError && error.param === 'stepTypes[0].deadlineMs',
  );
  assert.equal(parseConfig({ resilience: { deadlineMs: 3_600_000 } }).resilience.deadlineMs, 3_600_000);
});
