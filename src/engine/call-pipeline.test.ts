import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError, ProviderError, type ProviderErrorKind } from '../core/index.ts';
import type { PipewrightConfigInput } from '../config/index.ts';
import type { BreakerTransition } from '../resilience/index.ts';
import type { ChatChunk } from '../spec/index.ts';
import {
  chunk,
  createFakeProviderClient,
  textResponse,
  usageChunk,
  type ChatScript,
  type StreamScript,
} from '../../test/support/fake-provider-client.ts';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { createEngine } from '../pipewright.ts';
import type { CallAttempt } from './engine-types.ts';

const deployment = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  provider: 'openai' as const,
  model: 'gpt-4o-mini',
  baseUrl: `http://127.0.0.1:1/${id}`,
  apiKey: 'k',
  ...extra,
});
const message = { model: 'main', messages: [{ role: 'user' as const, content: 'hi' }] };
const never = <T>() => new Promise<T>(() => undefined);

function providerError(kind: ProviderErrorKind, deploymentId: string, retryAfterMs?: number): ProviderError {
  return new ProviderError({
    kind,
    message: `${kind} on ${deploymentId}`,
    provider: 'openai',
    deployment: deploymentId,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

function setup(config: PipewrightConfigInput, scripts: { chat?: ChatScript; stream?: StreamScript }) {
  const clock = createFakeClock();
  const client = createFakeProviderClient(scripts);
  const transitions: BreakerTransition[] = [];
  const engine = createEngine({
    config,
    client,
    clock,
    random: () => 0.5,
    onBreakerTransition: (transition) => transitions.push(transition),
  });
  const callsTo = (id: string) => client.calls.filter((call) => call.deployment === id).length;
  return { clock, client, engine, transitions, callsTo };
}

const twoDeployments: PipewrightConfigInput = {
  deployments: [deployment('primary'), deployment('secondary')],
  modelGroups: [{ name: 'main', deployments: ['primary', 'secondary'] }],
};

function attemptsOf(error: unknown): CallAttempt[] {
  assert.ok(PipewrightError.isInstance(error), String(error));
  return error.details?.attempts as CallAttempt[];
}

async function drain(chunks: AsyncIterable<ChatChunk>): Promise<string> {
  let text = '';
  for await (const part of chunks) text += part.choices[0]?.delta.content ?? '';
  return text;
}

test('a 429 with retry-after is waited out on the same deployment, exactly as long as asked', async () => {
  let calls = 0;
  const { clock, engine, callsTo } = setup(twoDeployments, {
    chat: (_request, target) =>
      ++calls === 1 ? providerError('rate_limited', target.id, 2_000) : textResponse('ok'),
  });
  const { meta } = await clock.run(engine.chat(message));
  assert.equal(meta.deployment, 'primary');
  assert.deepEqual(
    meta.attempts.map((attempt) => [attempt.deployment, attempt.errorCode, attempt.retry]),
    [
      ['primary', 'provider.rate_limited', false],
      ['primary', null, true],
    ],
  );
  assert.equal(clock.elapsed(), 2_000);
  assert.equal(callsTo('secondary'), 0);
});

test('a retry-after longer than the time left moves on to the next deployment at once', async () => {
  const { clock, engine } = setup(
    { ...twoDeployments, resilience: { deadlineMs: 5_000 } },
    {
      chat: (_request, target) =>
        target.id === 'primary'
          ? providerError('rate_limited', target.id, 30_000)
          : textResponse('from secondary'),
    },
  );
  const { response, meta } = await clock.run(engine.chat(message));
  assert.equal(response.choices[0]?.message.content, 'from secondary');
  assert.equal(meta.attempts.length, 2);
  assert.equal(clock.elapsed(), 0, 'no wait at all');
});

test('exhausted quota is never retried on the same deployment; another key may still help', async () => {
  const { clock, engine, callsTo } = setup(twoDeployments, {
    chat: (_request, target) =>
      target.id === 'primary' ? providerError('quota_exhausted', target.id) : textResponse('ok'),
  });
  const { meta } = await clock.run(engine.chat(message));
  assert.equal(callsTo('primary'), 1);
  assert.equal(meta.deployment, 'secondary');
});

test('the final error stays a ProviderError with its retry-after and lists every attempt', async () => {
  const { clock, engine } = setup(
    { ...twoDeployments, resilience: { retry: { maxAttempts: 2, maxRetryAfterMs: 1_000 } } },
    {
      chat: (_request, target) =>
        providerError('rate_limited', target.id, target.id === 'primary' ? 500 : 5_000),
    },
  );
  const error = await clock.run(engine.chat(message)).catch((caught: unknown) => caught);
  assert.ok(ProviderError.isProviderError(error));
  assert.equal(error.retryAfterMs, 5_000);
  assert.deepEqual(
    attemptsOf(error).map((attempt) => [attempt.deployment, attempt.retry]),
    [
      ['primary', false],
      ['primary', true],
      ['secondary', false],
    ],
  );
  assert.match(error.message, /after 3 attempts/);
});

test('the deadline bounds the whole call, a hanging upstream included', async () => {
  const { clock, engine } = setup(twoDeployments, { chat: () => never() });
  const error = await clock
    .run(engine.chat(message, { deadlineMs: 3_000 }))
    .catch((caught: unknown) => caught);
  assert.ok(PipewrightError.isInstance(error));
  assert.equal(error.code, 'gateway.deadline_exceeded');
  assert.equal(error.status, 504);
  assert.deepEqual(
    attemptsOf(error).map((attempt) => attempt.deployment),
    ['primary'],
  );
  assert.equal(clock.elapsed(), 3_000);
});

test('the breaker opens at its threshold, skips the deployment without calling it, and closes through half-open', async () => {
  let primaryDown = true;
  const { clock, engine, callsTo, transitions } = setup(
    {
      ...twoDeployments,
      resilience: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 3, openMs: 10_000 } },
    },
    {
      chat: (_request, target) =>
        target.id === 'primary' && primaryDown
          ? providerError('server_error', target.id)
          : textResponse(target.id),
    },
  );
  for (let index = 0; index < 3; index++) await clock.run(engine.chat(message));
  assert.equal(callsTo('primary'), 3);
  assert.equal(engine.resilience.snapshot().find((entry) => entry.deployment === 'primary')?.state, 'open');
  const skipped = await clock.run(engine.chat(message));
  assert.equal(callsTo('primary'), 3, 'an open breaker is not called');
  assert.deepEqual(
    skipped.meta.attempts.map((attempt) => [attempt.deployment, attempt.errorCode]),
    [
      ['primary', 'gateway.circuit_open'],
      ['secondary', null],
    ],
  );
  primaryDown = false;
  await clock.advance(10_000);
  const probed = await clock.run(engine.chat(message));
  assert.equal(probed.meta.deployment, 'primary');
  assert.deepEqual(
    transitions.map((transition) => [transition.deployment, transition.to]),
    [
      ['primary', 'open'],
      ['primary', 'half_open'],
      ['primary', 'closed'],
    ],
  );
});

test('when every breaker is open the call waits for the first to half-open if that fits in the deadline', async () => {
  let down = true;
  const { clock, engine } = setup(
    {
      ...twoDeployments,
      resilience: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1, openMs: 4_000 } },
    },
    {
      chat: (_request, target) => (down ? providerError('overloaded', target.id) : textResponse('recovered')),
    },
  );
  await clock.run(engine.chat(message)).catch(() => undefined);
  down = false;
  const tooShort = await clock
    .run(engine.chat(message, { deadlineMs: 1_000 }))
    .catch((caught: unknown) => caught);
  assert.ok(PipewrightError.isInstance(tooShort));
  assert.equal(tooShort.code, 'gateway.circuit_open');
  assert.equal(tooShort.details?.retryAfterMs, 4_000);
  const before = clock.elapsed();
  const { response } = await clock.run(engine.chat(message, { deadlineMs: 10_000 }));
  assert.equal(response.choices[0]?.message.content, 'recovered');
  assert.equal(clock.elapsed() - before, 4_000, 'waited for the half-open, then probed');
});

test('a 401 takes the deployment out of rotation until its configuration changes', async () => {
  const { clock, engine, callsTo } = setup(twoDeployments, {
    chat: (_request, target) =>
      target.id === 'primary' ? providerError('authentication', target.id) : textResponse('ok'),
  });
  await clock.run(engine.chat(message));
  await clock.advance(3_600_000);
  await clock.run(engine.chat(message));
  assert.equal(callsTo('primary'), 1);
  assert.equal(engine.resilience.snapshot().find((entry) => entry.deployment === 'primary')?.retryInMs, null);
});

test('context length: a larger window in the group, then the configured group; never a smaller one', async () => {
  const config: PipewrightConfigInput = {
    deployments: [
      deployment('small', { contextWindow: 8_000 }),
      deployment('tiny', { contextWindow: 4_000 }),
      deployment('medium', { contextWindow: 16_000 }),
      deployment('huge'),
    ],
    modelGroups: [
      { name: 'main', deployments: ['small', 'tiny', 'medium'], contextLengthFallback: 'long' },
      { name: 'long', deployments: ['huge'] },
    ],
  };
  const { clock, engine, callsTo } = setup(config, {
    chat: (_request, target) =>
      target.id === 'huge' ? textResponse('fits') : providerError('context_length_exceeded', target.id),
  });
  const { meta } = await clock.run(engine.chat(message));
  assert.equal(meta.deployment, 'huge');
  assert.deepEqual(
    meta.attempts.map((attempt) => [attempt.modelGroup, attempt.deployment]),
    [
      ['main', 'small'],
      ['main', 'medium'],
      ['long', 'huge'],
    ],
  );
  assert.equal(callsTo('tiny'), 0);
});

test('content filtered goes to the configured alternative; without one it is returned at once', async () => {
  const config: PipewrightConfigInput = {
    deployments: [deployment('strict'), deployment('other'), deployment('lenient')],
    modelGroups: [
      { name: 'main', deployments: ['strict', 'other'], contentFilterFallback: 'alt' },
      { name: 'plain', deployments: ['strict', 'other'] },
      { name: 'alt', deployments: ['lenient'] },
    ],
  };
  const { clock, engine, callsTo } = setup(config, {
    chat: (_request, target) =>
      target.id === 'lenient' ? textResponse('answered') : providerError('content_filtered', target.id),
  });
  const { meta } = await clock.run(engine.chat(message));
  assert.equal(meta.deployment, 'lenient');
  assert.equal(callsTo('other'), 0);
  const error = await clock
    .run(engine.chat({ ...message, model: 'plain' }))
    .catch((caught: unknown) => caught);
  assert.ok(PipewrightError.isInstance(error));
  assert.equal(error.code, 'provider.content_filtered');
  assert.equal(attemptsOf(error).length, 1);
});

test('a group falls back to its fallback groups in order; invalid requests never fall back', async () => {
  const config: PipewrightConfigInput = {
    deployments: [deployment('a'), deployment('b'), deployment('c')],
    modelGroups: [
      { name: 'main', deployments: ['a'], fallbacks: ['second', 'third'] },
      { name: 'second', deployments: ['b'] },
      { name: 'third', deployments: ['c'] },
    ],
    resilience: { retry: { maxAttempts: 1 } },
  };
  const { clock, engine, callsTo } = setup(config, {
    chat: (request, target) =>
      target.id === 'c'
        ? textResponse('third')
        : providerError(
            request.messages[0]?.content === 'bad' ? 'invalid_request' : 'server_error',
            target.id,
          ),
  });
  const { meta } = await clock.run(engine.chat(message));
  assert.deepEqual(
    meta.attempts.map((attempt) => attempt.modelGroup),
    ['main', 'second', 'third'],
  );
  const before = callsTo('b');
  await assert.rejects(
    clock.run(engine.chat({ ...message, messages: [{ role: 'user', content: 'bad' }] })),
    (error: unknown) => PipewrightError.isInstance(error) && error.code === 'provider.invalid_request',
  );
  assert.equal(callsTo('b'), before);
});

test('step types and deployments carry their own retry policy (the step type wins)', async () => {
  const config: PipewrightConfigInput = {
    deployments: [deployment('primary', { retry: { maxAttempts: 4 } }), deployment('secondary')],
    modelGroups: [{ name: 'main', deployments: ['primary', 'secondary'] }],
    stepTypes: [{ name: 'impatient', modelGroup: 'main', prompt: 'x', retry: { maxAttempts: 1 } }],
  };
  const { clock, engine, callsTo } = setup(config, {
    chat: (_request, target) =>
      target.id === 'primary' ? providerError('overloaded', target.id) : textResponse('ok'),
  });
  await clock.run(engine.chat(message));
  assert.equal(callsTo('primary'), 4);
  await clock.run(engine.run('impatient', {}));
  assert.equal(callsTo('primary'), 5);
});

test('weighted balancing spreads first choices by weight', async () => {
  const config: PipewrightConfigInput = {
    deployments: [deployment('light', { weight: 1 }), deployment('heavy', { weight: 3 })],
    modelGroups: [{ name: 'main', deployments: ['light', 'heavy'], strategy: 'weighted' }],
  };
  const clock = createFakeClock();
  const client = createFakeProviderClient();
  let state = 7;
  const random = () => ((state = (state * 16807) % 2147483647) - 1) / 2147483646;
  const engine = createEngine({ config, client, clock, random });
  for (let index = 0; index < 400; index++) await engine.chat(message);
  const heavy = client.calls.filter((call) => call.deployment === 'heavy').length / 400;
  assert.ok(heavy > 0.65 && heavy < 0.85, `heavy share ${heavy}`);
});

test('bulkheads: a full deployment passes calls to the next; a full tenant answers 429 when set to reject', async () => {
  const config: PipewrightConfigInput = {
    deployments: [deployment('primary', { maxInFlight: 1 }), deployment('secondary')],
    modelGroups: [{ name: 'main', deployments: ['primary', 'secondary'] }],
  };
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const { engine } = setup(config, {
    chat: async (_request, target) =>
      target.id === 'primary' ? (await gate, textResponse('primary')) : textResponse('secondary'),
  });
  const first = engine.chat(message);
  const second = await engine.chat(message);
  assert.equal(second.meta.deployment, 'secondary');
  assert.deepEqual(
    second.meta.attempts.map((attempt) => [attempt.deployment, attempt.errorCode]),
    [
      ['primary', 'gateway.overloaded'],
      ['secondary', null],
    ],
  );
  release();
  assert.equal((await first).meta.deployment, 'primary');

  const tenantConfig: PipewrightConfigInput = {
    ...twoDeployments,
    resilience: { maxInFlightPerTenant: 1, overflow: 'reject' },
  };
  let open: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (open = resolve));
  const tenant = setup(tenantConfig, { chat: async () => (await held, textResponse('ok')) });
  const busy = tenant.engine.chat(message, { tenantId: 'noisy' });
  await assert.rejects(
    tenant.engine.chat(message, { tenantId: 'noisy' }),
    (error: unknown) =>
      PipewrightError.isInstance(error) && error.code === 'gateway.overloaded' && error.status === 429,
  );
  open();
  await busy;
  const other = await tenant.engine.chat(message, { tenantId: 'quiet' });
  assert.equal(other.meta.tenantId, 'quiet');
});

test('streams: a failure before the first content chunk is retried and falls back; the caller sees one clean answer', async () => {
  const cut = (id: string) => providerError('stream_cut', id);
  const { clock, engine, callsTo } = setup(
    { ...twoDeployments, resilience: { retry: { maxAttempts: 2 } } },
    {
      stream: (_request, target) =>
        target.id === 'primary'
          ? [chunk({ role: 'assistant', content: '' }), cut(target.id)]
          : [
              chunk({ role: 'assistant', content: '' }),
              chunk({ content: 'Hello' }),
              chunk({}, 'stop'),
              usageChunk(3, 1),
            ],
    },
  );
  const stream = await clock.run(engine.chatStream({ ...message, stream: true }));
  assert.equal(stream.meta.deployment, 'secondary');
  assert.equal(callsTo('primary'), 2, 'retried once before falling back');
  assert.equal(await drain(stream.chunks), 'Hello');
  assert.equal((await stream.done).usage.outputTokens, 1);
});

test('streams: a failure after content ends the stream with the error, counted by the breaker', async () => {
  const { clock, engine } = setup(
    { ...twoDeployments, resilience: { breaker: { consecutiveFailures: 1 } } },
    { stream: (_request, target) => [chunk({ content: 'Hel' }), providerError('stream_cut', target.id)] },
  );
  const stream = await clock.run(engine.chatStream({ ...message, stream: true }));
  await assert.rejects(
    drain(stream.chunks),
    (error: unknown) =>
      PipewrightError.isInstance(error) &&
      error.code === 'provider.stream_cut' &&
      Array.isArray(error.details?.attempts),
  );
  assert.equal(engine.resilience.snapshot().find((entry) => entry.deployment === 'primary')?.state, 'open');
});

test('streams: the breaker records success at the end of the stream, not when it opens', async () => {
  let down = true;
  const { clock, engine } = setup(
    {
      ...twoDeployments,
      resilience: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1, openMs: 1_000 } },
    },
    { chat: (_request, target) => (down ? providerError('server_error', target.id) : textResponse('ok')) },
  );
  await clock.run(engine.chat({ ...message, model: 'main' })).catch(() => undefined);
  down = false;
  await clock.advance(1_000);
  const stream = await clock.run(engine.chatStream({ ...message, stream: true }));
  assert.equal(stream.meta.deployment, 'primary');
  const state = () => engine.resilience.snapshot().find((entry) => entry.deployment === 'primary')?.state;
  assert.equal(state(), 'half_open', 'an open stream proves nothing yet');
  await drain(stream.chunks);
  assert.equal(state(), 'closed');
});

test('streams: the first-token timeout falls back to another deployment', async () => {
  const { clock, engine } = setup(
    { ...twoDeployments, resilience: { retry: { maxAttempts: 1 }, timeouts: { firstTokenMs: 2_000 } } },
    {
      stream: (_request, target) =>
        target.id === 'primary'
          ? [chunk({ role: 'assistant', content: '' }), never()]
          : [chunk({ content: 'fast' }, 'stop')],
    },
  );
  const stream = await clock.run(engine.chatStream({ ...message, stream: true }));
  assert.equal(stream.meta.deployment, 'secondary');
  assert.deepEqual(
    stream.meta.attempts.map((attempt) => attempt.errorCode),
    ['provider.timeout', null],
  );
  assert.equal(await drain(stream.chunks), 'fast');
});

test('streams: the idle timeout ends a stalled stream with an error, never a clean end', async () => {
  const { clock, engine } = setup(
    { ...twoDeployments, resilience: { timeouts: { idleMs: 5_000 } } },
    { stream: () => [chunk({ content: 'partial' }), never()] },
  );
  const stream = await clock.run(engine.chatStream({ ...message, stream: true }));
  const outcome = clock.run(drain(stream.chunks)).catch((caught: unknown) => caught);
  const error = await outcome;
  assert.ok(ProviderError.isProviderError(error));
  assert.equal(error.kind, 'timeout');
  const meta = await stream.done;
  assert.equal(meta.deployment, 'primary');
});

test('a stream dropped unread still releases its tenant slot', async () => {
  const { clock, engine } = setup(
    { ...twoDeployments, resilience: { maxInFlightPerTenant: 1, overflow: 'reject' } },
    {},
  );
  const stream = await clock.run(engine.chatStream({ ...message, stream: true }));
  await stream.chunks[Symbol.asyncIterator]().return?.();
  const next = await clock.run(engine.chatStream({ ...message, stream: true }));
  assert.equal(await drain(next.chunks), 'Hello');
});

test('rate limits: a deployment over its rpm passes calls to the next; a tenant over its limit gets a 429 with retry-after', async () => {
  const config: PipewrightConfigInput = {
    deployments: [deployment('primary', { limits: { requestsPerMinute: 2 } }), deployment('secondary')],
    modelGroups: [{ name: 'main', deployments: ['primary', 'secondary'] }],
  };
  const { clock, engine, callsTo } = setup(config, {});
  for (let index = 0; index < 4; index++) await clock.run(engine.chat(message));
  assert.equal(callsTo('primary'), 2);
  assert.equal(callsTo('secondary'), 2);
  const last = await clock.run(engine.chat(message));
  assert.deepEqual(
    last.meta.attempts.map((attempt) => [attempt.deployment, attempt.errorCode]),
    [
      ['primary', 'gateway.rate_limited'],
      ['secondary', null],
    ],
  );

  const tenant = setup(
    { ...twoDeployments, resilience: { tenantLimits: { requestsPerMinute: 1 }, overflow: 'reject' } },
    {},
  );
  await tenant.clock.run(tenant.engine.chat(message, { tenantId: 'acme' }));
  const error = await tenant.clock
    .run(tenant.engine.chat(message, { tenantId: 'acme' }))
    .catch((caught: unknown) => caught);
  assert.ok(PipewrightError.isInstance(error));
  assert.equal(error.code, 'gateway.rate_limited');
  assert.ok(typeof error.details?.retryAfterMs === 'number' && error.details.retryAfterMs > 0);
  await tenant.clock.run(tenant.engine.chat(message, { tenantId: 'other' }));
  assert.equal(tenant.client.calls.length, 2, 'the limited request never reached a provider');
});

test('rate limits: in queue mode a single deployment over its limit is waited for within the deadline', async () => {
  const config: PipewrightConfigInput = {
    deployments: [deployment('only', { limits: { requestsPerMinute: 1 } })],
    modelGroups: [{ name: 'main', deployments: ['only'] }],
    resilience: { waitForRecoveryMs: 300_000 },
  };
  const { clock, engine, callsTo } = setup(config, {});
  await clock.run(engine.chat(message));
  const tooSoon = await clock
    .run(engine.chat(message, { deadlineMs: 5_000 }))
    .catch((caught: unknown) => caught);
  assert.ok(PipewrightError.isInstance(tooSoon));
  assert.equal(tooSoon.code, 'gateway.rate_limited');
  const { meta } = await clock.run(engine.chat(message, { deadlineMs: 300_000 }));
  assert.equal(meta.deployment, 'only');
  assert.equal(callsTo('only'), 2);
});

test('rate limits: tokens are settled with the real usage after a call', async () => {
  const config: PipewrightConfigInput = {
    deployments: [deployment('primary', { limits: { tokensPerMinute: 100 } }), deployment('secondary')],
    modelGroups: [{ name: 'main', deployments: ['primary', 'secondary'] }],
  };
  // Each answer reports 15 tokens; each request is estimated at 31 (its prompt and max_tokens).
  const { clock, engine, callsTo } = setup(config, {});
  for (let index = 0; index < 6; index++) await clock.run(engine.chat({ ...message, max_tokens: 30 }));
  assert.equal(
    callsTo('primary'),
    5,
    '4 × 15 real + 31 estimated fit in 100, although 5 × 31 estimated would not',
  );
  assert.equal(callsTo('secondary'), 1, '5 × 15 + 31 does not');
});

test('a caller who gives up while the call waits for a recovery gets an abort, not an internal error', async () => {
  const { clock, engine } = setup(
    {
      ...twoDeployments,
      resilience: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1, openMs: 20_000 } },
    },
    { chat: (_request, target) => providerError('overloaded', target.id) },
  );
  await clock.run(engine.chat(message)).catch(() => undefined);
  const controller = new AbortController();
  // Its own deadline is what lets a call wait for a recovery (without one it fails at once).
  const waiting = engine
    .chat(message, { signal: controller.signal, deadlineMs: 60_000 })
    .catch((caught: unknown) => caught);
  await clock.advance(5_000);
  controller.abort(new Error('client left'));
  const error = await waiting;
  assert.ok(ProviderError.isProviderError(error));
  assert.equal(error.code, 'provider.aborted');
  assert.equal(clock.elapsed(), 5_000, 'it was still waiting, not failing at once');
});
