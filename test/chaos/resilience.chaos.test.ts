// Chaos tests: faults injected by the real sim provider, driven through the engine and the real
// undici provider client. Deterministic: faults come from `x-sim-fault` (with `times=N`, so a
// retry of the same request succeeds) or from sim rules with probability 1; the sim is seeded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError, ProviderError } from '../../src/core/index.ts';
import type { PipewrightConfigInput } from '../../src/config/index.ts';
import { createEngine, type CallAttempt, type Engine } from '../../src/engine/index.ts';
import { countSimRequests, startSimServer, type SimServer } from '../../src/providers/sim/index.ts';
import type { BreakerTransition } from '../../src/resilience/index.ts';
import type { ChatChunk } from '../../src/spec/index.ts';

let sim: SimServer;
const engines: Engine[] = [];

before(async () => {
  sim = await startSimServer({ host: '127.0.0.1', port: 0, seed: 11 });
});

after(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  await sim.close();
});

function simDeployment(
  id: string,
  model: string,
  options: { fault?: string; wireFormat?: 'openai' | 'anthropic' | 'gemini' } = {},
) {
  const wireFormat = options.wireFormat ?? 'openai';
  return {
    id,
    provider: 'sim' as const,
    model,
    wireFormat,
    baseUrl: wireFormat === 'gemini' ? `${sim.url}/v1beta` : `${sim.url}/v1`,
    apiKey: 'sim-key',
    ...(options.fault === undefined ? {} : { headers: { 'x-sim-fault': options.fault } }),
  };
}

function engineFor(config: PipewrightConfigInput, transitions: BreakerTransition[] = []): Engine {
  const engine = createEngine({ config, onBreakerTransition: (transition) => transitions.push(transition) });
  engines.push(engine);
  return engine;
}

const ask = (model: string, content: string) => ({ model, messages: [{ role: 'user' as const, content }] });

function failedAttempts(error: unknown): CallAttempt[] {
  assert.ok(PipewrightError.isInstance(error), `expected a PipewrightError, got ${String(error)}`);
  const attempts = error.details?.attempts;
  assert.ok(Array.isArray(attempts), 'every surfaced failure carries its attempt list');
  return attempts as CallAttempt[];
}

async function drain(chunks: AsyncIterable<ChatChunk>): Promise<string> {
  let text = '';
  for await (const part of chunks) text += part.choices[0]?.delta.content ?? '';
  return text;
}

describe('chaos: the sim injects faults, the engine absorbs them', () => {
  test('a 429 storm with retry-after is absorbed within the deadline: every request answered, none twice', async () => {
    const engine = engineFor({
      deployments: [
        simDeployment('storm', 'model-storm', { fault: 'status=429; retry-after=0.05; times=2' }),
      ],
      modelGroups: [{ name: 'storm', deployments: ['storm'] }],
      resilience: { deadlineMs: 3_000 },
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => engine.chat(ask('storm', `question number ${index}`))),
    );
    for (const [index, { response, meta }] of results.entries()) {
      assert.match(
        response.choices[0]?.message.content ?? '',
        new RegExp(`question number ${index}\\b`),
        'each answer is its own',
      );
      // Skips while the deployment was paused by retry-after are listed too; the upstream calls are these.
      const calls = meta.attempts.filter((attempt) => attempt.errorCode !== 'gateway.circuit_open');
      assert.deepEqual(
        calls.map((attempt) => attempt.errorCode),
        ['provider.rate_limited', 'provider.rate_limited', null],
      );
    }
    assert.equal(countSimRequests(sim.stats(), { model: 'model-storm', outcome: 'rate_limited' }), 40);
    assert.equal(countSimRequests(sim.stats(), { model: 'model-storm', outcome: 'ok' }), 20);
    assert.equal(countSimRequests(sim.stats(), { model: 'model-storm' }), 60, 'no extra upstream call');
  });

  test("Anthropic's and Gemini's rate-limit hints are honoured the same way", async () => {
    const engine = engineFor({
      deployments: [
        simDeployment('anthropic-limited', 'model-anthropic-limited', {
          fault: 'status=429; retry-after=0.05; times=1',
          wireFormat: 'anthropic',
        }),
        simDeployment('gemini-limited', 'model-gemini-limited', {
          fault: 'status=429; retry-after=0.05; times=1',
          wireFormat: 'gemini',
        }),
      ],
      modelGroups: [
        { name: 'anthropic', deployments: ['anthropic-limited'] },
        { name: 'gemini', deployments: ['gemini-limited'] },
      ],
      resilience: { deadlineMs: 3_000, retry: { maxRetryAfterMs: 1_000 } },
    });
    for (const group of ['anthropic', 'gemini']) {
      const { meta } = await engine.chat(ask(group, `limited ${group}`));
      assert.deepEqual(
        meta.attempts
          .filter((attempt) => attempt.errorCode !== 'gateway.circuit_open')
          .map((attempt) => attempt.errorCode),
        ['provider.rate_limited', null],
        group,
      );
    }
  });

  test("a provider's x-ratelimit-remaining of 0 rests the deployment before it answers 429", async () => {
    const transitions: BreakerTransition[] = [];
    const engine = engineFor(
      {
        deployments: [simDeployment('metered', 'model-metered'), simDeployment('spare', 'model-spare')],
        modelGroups: [{ name: 'main', deployments: ['metered', 'spare'] }],
      },
      transitions,
    );
    sim.setConfig({ rules: [{ match: { model: 'model-metered' }, limits: { requestsPerMinute: 2 } }] });
    try {
      const deployments = [];
      for (let index = 0; index < 4; index++)
        deployments.push((await engine.chat(ask('main', `metered ${index}`))).meta.deployment);
      assert.deepEqual(deployments, ['metered', 'metered', 'spare', 'spare']);
      assert.equal(
        countSimRequests(sim.stats(), { model: 'model-metered', outcome: 'rate_limited' }),
        0,
        'not a single 429 was provoked',
      );
      assert.match(transitions[0]?.reason ?? '', /x-ratelimit-remaining-requests: 0/);
    } finally {
      sim.setConfig({ rules: [] });
    }
  });

  test('quota-exhausted 429s are never retried: one upstream call, and the error says why', async () => {
    const engine = engineFor({
      deployments: [simDeployment('broke', 'model-broke', { fault: 'quota' })],
      modelGroups: [{ name: 'broke', deployments: ['broke'] }],
    });
    const error = await engine.chat(ask('broke', 'anything')).catch((caught: unknown) => caught);
    assert.ok(ProviderError.isProviderError(error));
    assert.equal(error.code, 'provider.quota_exhausted');
    assert.equal(failedAttempts(error).length, 1);
    assert.equal(countSimRequests(sim.stats(), { model: 'model-broke' }), 1);
  });

  test('5xx bursts, Anthropic 529s, connection resets and malformed chunks are retried to success', async () => {
    const engine = engineFor({
      deployments: [
        simDeployment('burst', 'model-burst', { fault: 'status=500; times=2' }),
        simDeployment('overloaded', 'model-529', { fault: 'status=529; times=1', wireFormat: 'anthropic' }),
        simDeployment('reset', 'model-reset', { fault: 'reset; times=1' }),
        simDeployment('malformed', 'model-malformed', { fault: 'malformed-chunk=1; times=1' }),
      ],
      modelGroups: [
        { name: 'burst', deployments: ['burst'] },
        { name: 'overloaded', deployments: ['overloaded'] },
        { name: 'reset', deployments: ['reset'] },
        { name: 'malformed', deployments: ['malformed'] },
      ],
      resilience: { retry: { initialDelayMs: 10, maxDelayMs: 40 }, deadlineMs: 4_000 },
    });
    const burst = await engine.chat(ask('burst', 'five hundred'));
    assert.deepEqual(
      burst.meta.attempts.map((attempt) => attempt.errorCode),
      ['provider.server_error', 'provider.server_error', null],
    );
    const anthropic = await engine.chat(ask('overloaded', 'five twenty nine'));
    assert.deepEqual(
      anthropic.meta.attempts.map((attempt) => attempt.errorCode),
      ['provider.overloaded', null],
    );
    const reset = await engine.chat(ask('reset', 'reset me'));
    assert.deepEqual(
      reset.meta.attempts.map((attempt) => attempt.errorCode),
      ['provider.connection', null],
    );
    const stream = await engine.chatStream({ ...ask('malformed', 'garbled stream'), stream: true });
    assert.match(await drain(stream.chunks), /garbled stream/);
    assert.deepEqual(
      stream.meta.attempts.map((attempt) => attempt.errorCode),
      ['provider.malformed_response', null],
    );
  });

  test('the breaker opens within its threshold, sheds load from the primary, and closes again through half-open', async () => {
    const transitions: BreakerTransition[] = [];
    const engine = engineFor(
      {
        deployments: [
          simDeployment('primary', 'model-primary'),
          simDeployment('secondary', 'model-secondary'),
        ],
        modelGroups: [{ name: 'main', deployments: ['primary', 'secondary'] }],
        resilience: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 3, openMs: 150 } },
      },
      transitions,
    );
    sim.setConfig({
      rules: [{ match: { model: 'model-primary' }, outages: [{ fromMs: 0, toMs: 3_600_000 }] }],
    });
    try {
      for (let index = 0; index < 8; index++) {
        const { meta } = await engine.chat(ask('main', `during the outage ${index}`));
        assert.equal(meta.deployment, 'secondary', 'no request is lost');
      }
      assert.equal(
        countSimRequests(sim.stats(), { model: 'model-primary' }),
        3,
        'opened after exactly 3 failures; the rest never reached the primary',
      );
      assert.equal(
        engine.resilience.snapshot().find((entry) => entry.deployment === 'primary')?.state,
        'open',
      );
    } finally {
      sim.setConfig({ rules: [] });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { meta } = await engine.chat(ask('main', 'after the outage'));
    assert.equal(meta.deployment, 'primary', 'the half-open probe went to the primary');
    assert.deepEqual(
      transitions.map((transition) => transition.to),
      ['open', 'half_open', 'closed'],
    );
    assert.equal(
      engine.resilience.snapshot().find((entry) => entry.deployment === 'primary')?.state,
      'closed',
    );
  });

  test('a stream cut before its first content chunk falls back; the client sees one complete answer', async () => {
    const engine = engineFor({
      deployments: [
        simDeployment('cut-early', 'model-cut-early', { fault: 'cut-stream=after:1' }),
        simDeployment('backup', 'model-backup'),
      ],
      modelGroups: [{ name: 'main', deployments: ['cut-early', 'backup'] }],
      resilience: { retry: { maxAttempts: 1 } },
    });
    const stream = await engine.chatStream({ ...ask('main', 'a short poem'), stream: true });
    assert.equal(stream.meta.deployment, 'backup');
    assert.match(await drain(stream.chunks), /^\[simulated\].*a short poem/s);
    assert.deepEqual(
      stream.meta.attempts.map((attempt) => [attempt.deployment, attempt.errorCode]),
      [
        ['cut-early', 'provider.stream_cut'],
        ['backup', null],
      ],
    );
  });

  test('a stream cut after content ends with an error listing the attempts, never a clean finish', async () => {
    const engine = engineFor({
      deployments: [
        simDeployment('cut-late', 'model-cut-late', { fault: 'cut-stream=after:3' }),
        simDeployment('unused', 'model-unused'),
      ],
      modelGroups: [{ name: 'main', deployments: ['cut-late', 'unused'] }],
    });
    const stream = await engine.chatStream({ ...ask('main', 'a long story about rivers'), stream: true });
    let received = '';
    const error = await (async () => {
      for await (const part of stream.chunks) received += part.choices[0]?.delta.content ?? '';
    })().then(
      () => null,
      (caught: unknown) => caught,
    );
    assert.ok(received.length > 0, 'content had reached the client');
    assert.ok(PipewrightError.isInstance(error), 'the stream did not end cleanly');
    assert.equal(error.code, 'provider.stream_cut');
    assert.equal(failedAttempts(error).length, 1);
    assert.equal(
      countSimRequests(sim.stats(), { model: 'model-unused' }),
      0,
      'nothing is replayed once content was sent',
    );
  });

  test('a malformed chunk after content has been sent ends the stream with an error, never a clean finish', async () => {
    const engine = engineFor({
      deployments: [
        simDeployment('garbled-late', 'model-garbled-late', { fault: 'malformed-chunk=4' }),
        simDeployment('untouched', 'model-untouched'),
      ],
      modelGroups: [{ name: 'main', deployments: ['garbled-late', 'untouched'] }],
    });
    const stream = await engine.chatStream({
      ...ask('main', 'a long story about mountains and rivers'),
      stream: true,
    });
    let received = '';
    let finishReason: string | null | undefined;
    const error = await (async () => {
      for await (const part of stream.chunks) {
        received += part.choices[0]?.delta.content ?? '';
        finishReason ??= part.choices[0]?.finish_reason;
      }
    })().then(
      () => null,
      (caught: unknown) => caught,
    );
    assert.ok(received.length > 0, 'content had reached the client');
    assert.ok(PipewrightError.isInstance(error), 'the stream did not end cleanly');
    assert.equal(error.code, 'provider.malformed_response');
    assert.equal(
      finishReason ?? null,
      null,
      'no finish_reason was ever sent: the answer is not passed off as complete',
    );
    assert.deepEqual(
      failedAttempts(error).map((attempt) => attempt.deployment),
      ['garbled-late'],
    );
    assert.equal(
      countSimRequests(sim.stats(), { model: 'model-untouched' }),
      0,
      'nothing is replayed once content was sent',
    );
    const done = await stream.done;
    assert.equal(done.deployment, 'garbled-late');
  });

  test('a stream during an outage of the primary falls back before its first byte: one complete answer from the secondary', async () => {
    const engine = engineFor({
      deployments: [
        simDeployment('down-primary', 'model-down-primary'),
        simDeployment('up-secondary', 'model-up-secondary'),
      ],
      modelGroups: [{ name: 'main', deployments: ['down-primary', 'up-secondary'] }],
      resilience: { retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 } },
    });
    sim.setConfig({
      rules: [{ match: { model: 'model-down-primary' }, outages: [{ fromMs: 0, toMs: 3_600_000 }] }],
    });
    try {
      const stream = await engine.chatStream({ ...ask('main', 'stream through the outage'), stream: true });
      assert.equal(
        stream.meta.deployment,
        'up-secondary',
        'the headers already name the deployment that answers',
      );
      const text = await drain(stream.chunks);
      assert.match(
        text,
        /^\[simulated\].*stream through the outage/s,
        'one complete answer, nothing from the failed attempts',
      );
      assert.deepEqual(
        stream.meta.attempts.map((attempt) => [attempt.deployment, attempt.errorCode]),
        [
          ['down-primary', 'provider.overloaded'],
          ['down-primary', 'provider.overloaded'],
          ['up-secondary', null],
        ],
      );
      assert.equal(countSimRequests(sim.stats(), { model: 'model-down-primary', outcome: 'ok' }), 0);
    } finally {
      sim.setConfig({ rules: [] });
    }
  });

  test('a slow first token times out and falls back; the deadline header bounds a hanging upstream', async () => {
    const engine = engineFor({
      deployments: [
        simDeployment('sluggish', 'model-sluggish', { fault: 'ttft=2000' }),
        simDeployment('quick', 'model-quick'),
        simDeployment('hang', 'model-hang', { fault: 'timeout' }),
      ],
      modelGroups: [
        { name: 'main', deployments: ['sluggish', 'quick'] },
        { name: 'hang', deployments: ['hang'] },
      ],
      resilience: { retry: { maxAttempts: 1 }, timeouts: { firstTokenMs: 150 } },
    });
    const stream = await engine.chatStream({ ...ask('main', 'be quick'), stream: true });
    assert.equal(stream.meta.deployment, 'quick');
    assert.deepEqual(
      stream.meta.attempts.map((attempt) => attempt.errorCode),
      ['provider.timeout', null],
    );
    await drain(stream.chunks);
    const error = await engine
      .chat(ask('hang', 'are you there'), { deadlineMs: 200 })
      .catch((caught: unknown) => caught);
    assert.ok(PipewrightError.isInstance(error));
    assert.equal(error.code, 'gateway.deadline_exceeded');
    assert.equal(failedAttempts(error)[0]?.deployment, 'hang');
  });
});
