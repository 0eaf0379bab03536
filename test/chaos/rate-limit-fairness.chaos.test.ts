// Issue 3, point 4: over a deployment's rate limit, requests wait in a queue that is fair across
// tenants. Fake time (the limit is per minute), a scripted provider, the real engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/pipewright.ts';
import { createFakeClock } from '../support/fake-clock.ts';
import { createFakeProviderClient } from '../support/fake-provider-client.ts';

test('a noisy tenant with 100 queued requests cannot starve a quiet tenant: the quiet one is served at the next room', async () => {
  // Minute-aligned, so the sliding window's arithmetic is the same on every run.
  const clock = createFakeClock({ epochMs: 28_333_334 * 60_000 });
  const client = createFakeProviderClient();
  const engine = createEngine({
    config: {
      deployments: [
        {
          id: 'metered',
          provider: 'openai',
          model: 'gpt-4o-mini',
          baseUrl: 'http://127.0.0.1:1/v1',
          apiKey: 'k',
          limits: { requestsPerMinute: 10 },
        },
      ],
      modelGroups: [{ name: 'main', deployments: ['metered'] }],
      resilience: { waitForRecoveryMs: 3_600_000, deadlineMs: 3_600_000 },
    },
    client,
    clock,
  });
  const ask = (content: string, tenantId: string) =>
    engine.chat({ model: 'main', messages: [{ role: 'user', content }] }, { tenantId });
  for (let index = 0; index < 10; index++) await clock.run(ask(`warm-up ${index}`, 'noisy'));
  const answered: string[] = [];
  const noisy = Array.from({ length: 100 }, (_, index) =>
    ask(`noisy ${index}`, 'noisy').then(({ meta }) => answered.push(`${meta.tenantId} ${index}`)),
  );
  await clock.advance(0);
  const quiet = ask('quiet 0', 'quiet').then(({ meta }) => answered.push(`${meta.tenantId} 0`));
  await clock.run(Promise.all([...noisy, quiet]));
  assert.equal(answered.length, 101, 'no request lost');
  const turn = answered.indexOf('quiet 0');
  assert.ok(
    turn >= 0 && turn <= 1,
    `the quiet tenant's request was answered ${turn + 1}th, not behind the noisy backlog`,
  );
  assert.equal(client.calls.length, 111, 'one upstream call per request, none twice');
  await engine.close();
});
