import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { PipewrightError, ProviderError } from '../core/index.ts';
import type { CallRecord, TelemetryRecorder } from '../telemetry/index.ts';
import { chunk, createFakeProviderClient, textResponse } from '../../test/support/fake-provider-client.ts';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { createEngine } from '../pipewright.ts';

function collectingRecorder(): TelemetryRecorder & { records: CallRecord[] } {
  const records: CallRecord[] = [];
  return {
    records,
    record: (record) => void records.push(record),
    flush: async () => {},
    close: async () => {},
  };
}

const config = {
  deployments: [
    {
      id: 'primary',
      provider: 'openai' as const,
      model: 'gpt-4o-mini',
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: 'k',
    },
    {
      id: 'secondary',
      provider: 'openai' as const,
      model: 'gpt-4o',
      baseUrl: 'http://127.0.0.1:2/v1',
      apiKey: 'k',
    },
  ],
  modelGroups: [
    { name: 'fast', deployments: ['primary', 'secondary'] },
    { name: 'solo', deployments: ['secondary'] },
  ],
  stepTypes: [
    {
      name: 'tagline',
      modelGroup: 'fast',
      system: 'You write for {{context.brand}}.',
      prompt: 'Write a tagline about {{input.topic}}.',
      outputSchema: {
        type: 'object',
        required: ['tagline'],
        properties: { tagline: { type: 'string', minLength: 3 } },
      },
    },
  ],
};

const overloaded = (deployment = 'primary') =>
  new ProviderError({
    kind: 'overloaded',
    message: 'overloaded',
    provider: 'openai',
    deployment,
    upstreamStatus: 503,
  });

test('chat answers with the payload and meta: deployment, tenant, usage, cost, ids', async () => {
  const recorder = collectingRecorder();
  const client = createFakeProviderClient();
  const engine = createEngine({ config, client, recorder });
  const { response, meta } = await engine.chat(
    { model: 'fast', messages: [{ role: 'user', content: 'hi' }] },
    { tenantId: 'acme' },
  );
  assert.equal(response.choices[0]?.message.content, 'echo: hi');
  assert.equal(meta.deployment, 'primary');
  assert.equal(meta.tenantId, 'acme');
  assert.equal(meta.usage.inputTokens, 10);
  assert.ok(meta.costUsd !== null && meta.costUsd > 0, 'gpt-4o-mini is priced from the catalog');
  assert.match(meta.requestId, /^req_/);
  assert.match(meta.traceId, /^[\da-f]{32}$/);
  assert.equal(recorder.records.length, 1);
  assert.equal(recorder.records[0]?.tenantId, 'acme');
  assert.equal(recorder.records[0]?.outcome, 'success');
});

test('bad requests are rejected before any call, naming the field', async () => {
  const client = createFakeProviderClient();
  const engine = createEngine({ config, client });
  await assert.rejects(
    engine.chat({ model: 'fast', messages: [{ role: 'wizard', content: 'x' }] }),
    (error: unknown) =>
      PipewrightError.isInstance(error) &&
      error.code === 'request.invalid' &&
      error.param === 'messages[0].role',
  );
  await assert.rejects(
    engine.chat({ model: 'fast', messages: [], temperature: 'hot' }),
    (error: unknown) => PipewrightError.isInstance(error) && error.param !== undefined,
  );
  await assert.rejects(
    engine.chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) =>
      PipewrightError.isInstance(error) &&
      error.code === 'gateway.model_not_found' &&
      error.param === 'model',
  );
  assert.equal(client.calls.length, 0);
});

test('retries an overloaded deployment, then falls back to the next, and records every attempt', async () => {
  const clock = createFakeClock();
  const client = createFakeProviderClient({
    chat: (request, deployment) =>
      deployment.id === 'primary' ? overloaded() : textResponse('from secondary'),
  });
  const engine = createEngine({ config, client, clock, random: () => 0.5 });
  const { response, meta } = await clock.run(
    engine.chat({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
  );
  assert.equal(response.choices[0]?.message.content, 'from secondary');
  assert.deepEqual(
    meta.attempts.map((attempt) => [attempt.deployment, attempt.errorCode, attempt.retry]),
    [
      ['primary', 'provider.overloaded', false],
      ['primary', 'provider.overloaded', true],
      ['primary', 'provider.overloaded', true],
      ['secondary', null, false],
    ],
  );
});

test('does not fall back on errors about the request itself', async () => {
  const client = createFakeProviderClient({
    chat: () =>
      new ProviderError({ kind: 'context_length_exceeded', message: 'too long', provider: 'openai' }),
  });
  const engine = createEngine({ config, client });
  await assert.rejects(
    engine.chat({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
    (error: unknown) =>
      PipewrightError.isInstance(error) && error.code === 'provider.context_length_exceeded',
  );
  assert.equal(client.calls.length, 1);
});

test('when every deployment fails, the error lists every attempt', async () => {
  const recorder = collectingRecorder();
  const client = createFakeProviderClient({ chat: (_request, deployment) => overloaded(deployment.id) });
  const engine = createEngine({
    config: { ...config, resilience: { retry: { maxAttempts: 1 } } },
    client,
    recorder,
  });
  await assert.rejects(
    engine.chat({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
    (error: unknown) => {
      assert.ok(
        ProviderError.isProviderError(error),
        'the last provider error keeps its class (and its retry-after)',
      );
      assert.equal(error.code, 'provider.overloaded');
      const attempts = error.details?.attempts as Array<{ deployment: string }>;
      assert.deepEqual(
        attempts.map((attempt) => attempt.deployment),
        ['primary', 'secondary'],
      );
      return true;
    },
  );
  assert.equal(recorder.records[0]?.outcome, 'error');
  assert.equal(recorder.records[0]?.errorCode, 'provider.overloaded');
});

test('streams relay chunks, capture usage, and hide the usage chunk unless asked for', async () => {
  const recorder = collectingRecorder();
  const engine = createEngine({ config, client: createFakeProviderClient(), recorder });
  const plain = await engine.chatStream({
    model: 'fast',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  const seen = [];
  for await (const part of plain.chunks) seen.push(part);
  assert.equal(seen.map((part) => part.choices[0]?.delta.content ?? '').join(''), 'Hello');
  assert.ok(seen.every((part) => part.usage === undefined && part.choices.length > 0));
  const final = await plain.done;
  assert.equal(final.usage.inputTokens, 7);
  assert.equal(final.usage.outputTokens, 2);
  assert.ok(final.timeToFirstTokenMs !== null);
  assert.equal(recorder.records[0]?.streamed, true);
  assert.equal(recorder.records[0]?.outputTokens, 2);

  const withUsage = await engine.chatStream({
    model: 'fast',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const parts = [];
  for await (const part of withUsage.chunks) parts.push(part);
  assert.deepEqual(parts.at(-1)?.usage, { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
});

test('a stream cut after it started throws from the iterator and is recorded as an error', async () => {
  const recorder = collectingRecorder();
  const cut = new ProviderError({
    kind: 'stream_cut',
    message: 'stream ended before [DONE]',
    provider: 'openai',
  });
  const engine = createEngine({
    config,
    client: createFakeProviderClient({ stream: () => [chunk({ content: 'Hel' }), cut] }),
    recorder,
  });
  const stream = await engine.chatStream({
    model: 'fast',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  await assert.rejects(
    async () => {
      for await (const _part of stream.chunks) {
        // drain
      }
    },
    (error: unknown) => PipewrightError.isInstance(error) && error.code === 'provider.stream_cut',
  );
  assert.equal(recorder.records[0]?.outcome, 'error');
  assert.equal(recorder.records[0]?.errorCode, 'provider.stream_cut');
});

test('a stream that fails before its first byte falls back to the next deployment', async () => {
  const engine = createEngine({
    config,
    client: createFakeProviderClient({
      stream: (_request, deployment) =>
        deployment.id === 'primary' ? overloaded() : [chunk({ content: 'ok' }, 'stop')],
    }),
  });
  const stream = await engine.chatStream({
    model: 'fast',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  assert.equal(stream.meta.deployment, 'secondary');
});

test('run: a YAML step type renders its templates and validates JSON output', async () => {
  const client = createFakeProviderClient({ chat: () => textResponse('{"tagline":"Tea, but faster"}') });
  const engine = createEngine({ config, client });
  const result = await engine.run<{ tagline: string }>('tagline', { topic: 'tea' }, { brand: 'Leafy' });
  assert.deepEqual(result.output, { tagline: 'Tea, but faster' });
  assert.equal(result.source, 'model');
  assert.equal(result.confidence, 1);
  assert.equal(result.deployment, 'primary');
  const sent = client.calls[0]?.request as {
    messages: Array<{ content: string }>;
    response_format: { type: string };
  };
  assert.equal(sent.messages[0]?.content, 'You write for Leafy.');
  assert.equal(sent.messages[1]?.content, 'Write a tagline about tea.');
  assert.equal(sent.response_format.type, 'json_schema');
});

test('run: a missing template value is an error naming it, and no call is made', async () => {
  const client = createFakeProviderClient();
  const engine = createEngine({ config, client });
  await assert.rejects(
    engine.run('tagline', {}, { brand: 'Leafy' }),
    (error: unknown) => PipewrightError.isInstance(error) && error.param === 'input.topic',
  );
  assert.equal(client.calls.length, 0);
});

test('run: one repair attempt on invalid output, then a typed error', async () => {
  let calls = 0;
  const repaired = createEngine({
    config,
    client: createFakeProviderClient({
      chat: () =>
        textResponse(++calls === 1 ? 'Sure! {tagline: nope' : '```json\n{"tagline":"Fixed it"}\n```'),
    }),
  });
  const result = await repaired.run<{ tagline: string }>('tagline', { topic: 'tea' }, { brand: 'B' });
  assert.equal(result.output.tagline, 'Fixed it');
  assert.equal(result.source, 'model-repaired');
  assert.ok(result.confidence < 1);
  assert.equal(result.calls.length, 2);
  assert.equal(result.usage.inputTokens, 20, 'usage sums both calls');

  const broken = createEngine({
    config,
    client: createFakeProviderClient({ chat: () => textResponse('{"tagline": 42}') }),
  });
  await assert.rejects(
    broken.run('tagline', { topic: 'tea' }, { brand: 'B' }),
    (error: unknown) =>
      PipewrightError.isInstance(error) &&
      error.code === 'step.output_invalid' &&
      /tagline/.test(error.message),
  );
});

test('run: a TS step type with a zod schema and a rule-based fallback', async () => {
  const client = createFakeProviderClient({ chat: (_request, deployment) => overloaded(deployment.id) });
  const engine = createEngine({ config, client });
  engine.registerStepType({
    name: 'classify',
    modelGroup: 'solo',
    output: z.object({ label: z.enum(['bug', 'question']) }),
    buildMessages: (input: { text: string }) => [{ role: 'user', content: input.text }],
    fallback: (input) => ({ label: input.text.includes('?') ? 'question' : 'bug' }),
  });
  const result = await engine.run<{ label: string }>('classify', { text: 'why?' });
  assert.deepEqual(result.output, { label: 'question' });
  assert.equal(result.source, 'rule-fallback');
  assert.equal(result.confidence, 0.3);
  assert.equal(result.model, null);
  const sent = client.calls[0]?.request as {
    response_format: { json_schema: { schema: { properties: object } } };
  };
  assert.ok('label' in sent.response_format.json_schema.schema.properties);
});

test('run: an unknown step type names the registered ones', async () => {
  const engine = createEngine({ config, client: createFakeProviderClient() });
  await assert.rejects(
    engine.run('nope', {}),
    (error: unknown) =>
      PipewrightError.isInstance(error) &&
      error.code === 'step.unknown_type' &&
      /tagline/.test(error.message),
  );
});

test('adaptFunction: an existing model-calling function is observed as a step type', async () => {
  const recorder = collectingRecorder();
  const engine = createEngine({ config, client: createFakeProviderClient(), recorder });
  const legacySummarize = async (input: { text: string }) => ({
    summary: input.text.slice(0, 5),
    tokens: 12,
  });
  const summarize = engine.adaptFunction({
    stepType: 'legacy-summarize',
    modelGroup: 'fast',
    call: legacySummarize,
    describe: (output) => ({ model: 'gpt-4o-mini', usage: { outputTokens: output.tokens } }),
  });
  assert.deepEqual(await summarize({ text: 'Hello world' }), { summary: 'Hello', tokens: 12 });
  const result = await engine.run<{ summary: string }>(
    'legacy-summarize',
    { text: 'abcdefgh' },
    {},
    { tenantId: 't2' },
  );
  assert.equal(result.source, 'function');
  assert.equal(recorder.records.length, 2);
  assert.equal(recorder.records[1]?.tenantId, 't2');
  assert.equal(recorder.records[1]?.stepType, 'legacy-summarize');
  assert.equal(recorder.records[1]?.outputTokens, 12);

  const failing = engine.adaptFunction({
    stepType: 'legacy-fail',
    modelGroup: 'fast',
    call: async () => {
      throw new Error('upstream exploded');
    },
  });
  await assert.rejects(failing({}), /upstream exploded/);
  assert.equal(recorder.records[2]?.outcome, 'error');
});

test('embeddings and images go through the same pipeline', async () => {
  const recorder = collectingRecorder();
  const engine = createEngine({ config, client: createFakeProviderClient(), recorder });
  const embedded = await engine.embed({ model: 'fast', input: ['a', 'b'] });
  assert.equal(embedded.response.data.length, 2);
  assert.equal(embedded.meta.usage.inputTokens, 6);
  await assert.rejects(
    engine.embed({ model: 'fast', input: [] }),
    (error: unknown) => PipewrightError.isInstance(error) && error.param === 'input',
  );
  const image = await engine.images({ model: 'fast', prompt: 'a cat' });
  assert.equal(image.response.data.length, 1);
  assert.deepEqual(
    recorder.records.map((record) => record.operation),
    ['embeddings', 'images'],
  );
});

test('raw config that merely looks parsed is still validated', () => {
  const looksParsed = {
    server: {},
    defaultTenant: 'default',
    stepTypes: [],
    deployments: [{ id: 'a', provider: 'nope', model: 'm', baseUrl: 'http://127.0.0.1:1' }],
    modelGroups: [],
  };
  assert.throws(
    () => createEngine({ config: looksParsed as never, client: createFakeProviderClient() }),
    (error: unknown) =>
      PipewrightError.isInstance(error) &&
      error.code === 'config.invalid' &&
      error.param === 'deployments[0].provider',
  );
});
