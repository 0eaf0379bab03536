// A primary deployment down for 30 (simulated) seconds: the sim and the engine share one fake
// clock, so the outage window, the breaker's open periods and the traffic are all in fake time,
// while every request is a real HTTP call to the sim (time stands still while one is under way:
// sim-time.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/pipewright.ts';
import { countSimRequests, startSimServer, type SimServer } from '../../src/providers/sim/index.ts';
import type { BreakerTransition } from '../../src/resilience/index.ts';
import { createSimTime } from './sim-time.ts';

let sim: SimServer | undefined;
const time = createSimTime();

after(async () => {
  await time.client.close();
  await sim?.close();
});

test('a 30-second outage of the primary: no request lost, the breaker sheds it, then closes soon after it recovers', async () => {
  const { clock } = time;
  sim = await startSimServer({
    host: '127.0.0.1',
    port: 0,
    seed: 5,
    clock,
    config: { rules: [{ match: { model: 'model-primary' }, outages: [{ fromMs: 10_000, toMs: 40_000 }] }] },
  });
  const deployment = (id: string) => ({
    id,
    provider: 'sim' as const,
    model: `model-${id}`,
    baseUrl: `${sim?.url ?? ''}/v1`,
    apiKey: 'sim-key',
  });
  const transitions: BreakerTransition[] = [];
  const engine = createEngine({
    config: {
      deployments: [deployment('primary'), deployment('secondary')],
      modelGroups: [{ name: 'main', deployments: ['primary', 'secondary'] }],
      resilience: {
        retry: { maxAttempts: 1 },
        breaker: { consecutiveFailures: 3, openMs: 4_000, maxOpenMs: 8_000 },
      },
    },
    client: time.client,
    clock,
    onBreakerTransition: (transition) => transitions.push({ ...transition, at: clock.elapsed() }),
  });
  try {
    const served: string[] = [];
    // One request every 250 ms for 60 s: 10 s healthy, 30 s outage, 20 s after.
    for (let index = 0; index < 240; index++) {
      await clock.advance(250);
      const { response, meta } = await time.run(
        engine.chat({ model: 'main', messages: [{ role: 'user', content: `request ${index}` }] }),
      );
      assert.match(
        response.choices[0]?.message.content ?? '',
        new RegExp(`request ${index}\\b`),
        'answered, and answered right',
      );
      served.push(meta.deployment);
    }
    assert.equal(served.length, 240);
    const primaryErrors =
      countSimRequests(sim.stats(), { model: 'model-primary' }) -
      countSimRequests(sim.stats(), { model: 'model-primary', outcome: 'ok' });
    // 3 failures open it; then one probe per open period (4 s, then 8 s at most) during 30 s.
    assert.ok(primaryErrors <= 3 + 6, `the primary saw ${primaryErrors} failed calls during the outage`);
    const opened = transitions.find((transition) => transition.to === 'open');
    assert.ok(
      opened !== undefined && opened.at >= 10_000 && opened.at < 11_000,
      'opened within its threshold (3 calls, under a second)',
    );
    const closed = transitions.find((transition) => transition.to === 'closed');
    assert.ok(closed !== undefined, 'closed again through half-open');
    assert.ok(
      closed.at >= 40_000 && closed.at - 40_000 <= 8_000,
      `closed ${closed.at - 40_000} ms after the outage ended (max open period 8 s)`,
    );
    assert.equal(served.at(-1), 'primary', 'traffic is back on the primary');
    assert.ok(transitions.some((transition) => transition.to === 'half_open'));
  } finally {
    await engine.close();
  }
});
