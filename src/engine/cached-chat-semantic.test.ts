import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../core/index.ts';
import type { ChatChunk } from '../spec/index.ts';
import { embedText } from '../providers/sim/embed-text.ts';
import { createMetrics, type CallRecord, type TelemetryRecorder } from '../telemetry/index.ts';
import {
  createFakeProviderClient,
  textResponse,
  type ChatScript,
} from '../../test/support/fake-provider-client.ts';
import type { SemanticCacheRecord, SemanticCachePersistence } from '../cache/index.ts';
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

// The sim's hashed bag-of-words embedding: the same words give the same vector, a changed word moves it.
const embedScript = (input: string) => Array.from(embedText(input, 256));

const baseConfig = {
  deployments: [
    {
      id: 'primary',
      provider: 'openai' as const,
      model: 'gpt-4o-mini',
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: 'k',
      retry: { maxAttempts: 1 },
    },
    {
      id: 'embedder',
      provider: 'openai' as const,
      model: 'text-embedding-3-small',
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: 'k',
    },
  ],
  modelGroups: [
    { name: 'fast', deployments: ['primary'] },
    { name: 'embed', deployments: ['embedder'] },
  ],
  cache: {
    semantic: { enabled: true, threshold: 0.95, fallbackThreshold: 0.85, embedder: { modelGroup: 'embed' } },
  },
};

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'fast',
  temperature: 0,
  messages: [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content },
  ],
  ...extra,
});

function setup(options: { chat?: ChatScript; config?: object } = {}) {
  const recorder = collectingRecorder();
  const metrics = createMetrics();
  const errors: Array<{ operation: string; error: unknown }> = [];
  const client = createFakeProviderClient({
    embed: embedScript,
    ...(options.chat === undefined ? {} : { chat: options.chat }),
  });
  const engine = createEngine({
    config: options.config ?? baseConfig,
    client,
    recorder,
    metrics,
    onCacheError: (error, operation) => void errors.push({ operation, error }),
  });
  const chatCalls = () =>
    client.calls.filter((call) => call.operation === 'chat' || call.operation === 'stream').length;
  return { engine, client, recorder, metrics, errors, chatCalls };
}

test('a reworded request is a semantic hit: the stored answer, its similarity and confidence, no upstream call, the saving recorded', async () => {
  const { engine, recorder, metrics, chatCalls } = setup({
    chat: () => textResponse('Open Settings, then Security, then Reset password.'),
  });
  const first = await engine.chat(ask('How do I reset my password?'), { tenantId: 'acme' });
  assert.equal(first.meta.cacheStatus, 'miss');
  // The first caller changing its answer must not change what is stored.
  const original = first.response.choices[0]!.message.content;
  first.response.choices[0]!.message.content = 'changed by the first caller';
  const second = await engine.chat(ask('how do I reset my password'), { tenantId: 'acme' });
  assert.equal(second.meta.cacheStatus, 'semantic-hit');
  assert.equal(chatCalls(), 1);
  assert.equal(second.response.choices[0]?.message.content, original);
  assert.ok(second.meta.semantic !== undefined);
  assert.ok(second.meta.semantic.similarity >= 0.95 && second.meta.semantic.similarity <= 1);
  assert.ok(second.meta.semantic.confidence > 0 && second.meta.semantic.confidence <= 1);
  assert.equal(second.meta.semantic.matchedText, 'How do I reset my password?');
  assert.equal(second.meta.semantic.degraded, false);
  assert.equal(second.meta.costUsd, 0);
  assert.equal(second.meta.savedCostUsd, first.meta.costUsd);
  assert.equal(
    second.meta.deployment,
    'primary',
    'a semantic hit names the deployment that produced the answer',
  );
  // The embedding calls the cache made are the tenant's own (its cost, its telemetry).
  const embeddingRecords = recorder.records.filter((record) => record.operation === 'embeddings');
  assert.ok(embeddingRecords.length >= 2);
  assert.ok(
    embeddingRecords.every((record) => record.tenantId === 'acme' && record.stepType === 'semantic-cache'),
  );
  const chatRecords = recorder.records.filter((record) => record.operation === 'chat');
  assert.deepEqual(
    chatRecords.map((record) => record.cacheStatus),
    ['miss', 'semantic-hit'],
  );
  assert.equal(chatRecords[1]?.savedCostUsd, first.meta.costUsd);
  const text = await metrics.render();
  assert.match(text, /pipewright_cache_requests_total\{status="semantic-hit"\} 1/);
  assert.match(text, /pipewright_cache_semantic_hit_ratio 0\.5/);
  assert.match(text, /pipewright_cache_hit_ratio 0\b/);
  // Mutating a served answer does not change what the next caller gets.
  second.response.choices[0]!.message.content = 'tampered';
  const third = await engine.chat(ask('How do I reset my password'), { tenantId: 'acme' });
  assert.equal(
    third.response.choices[0]?.message.content,
    'Open Settings, then Security, then Reset password.',
  );
});

test('a semantic hit never crosses tenants, system prompts or model groups', async () => {
  const { engine, chatCalls } = setup();
  await engine.chat(ask('How do I reset my password?'), { tenantId: 'acme' });
  assert.equal(
    (await engine.chat(ask('how do I reset my password'), { tenantId: 'globex' })).meta.cacheStatus,
    'miss',
  );
  const otherSystem = {
    ...ask('how do I reset my password'),
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'how do I reset my password' },
    ],
  };
  assert.equal((await engine.chat(otherSystem, { tenantId: 'acme' })).meta.cacheStatus, 'miss');
  assert.equal(chatCalls(), 3);
});

test('the precision guard refuses a neighbour whose numbers differ, even when the embeddings are close', async () => {
  const { engine, chatCalls } = setup({
    chat: (request) => textResponse(`answer to ${JSON.stringify(request.messages.at(-1)?.content)}`),
  });
  await engine.chat(ask('What is the shipping cost for 2 items to Berlin?'));
  const other = await engine.chat(ask('What is the shipping cost for 3 items to Berlin?'));
  assert.equal(other.meta.cacheStatus, 'miss');
  assert.equal(chatCalls(), 2);
});

test('a streamed request is served from a semantic hit as a stream', async () => {
  const { engine, chatCalls } = setup({ chat: () => textResponse('Use the reset link.') });
  await engine.chat(ask('How do I reset my password?'));
  const stream = await engine.chatStream(ask('how do i reset my password', { stream: true }));
  assert.equal(stream.meta.cacheStatus, 'semantic-hit');
  const chunks: ChatChunk[] = [];
  for await (const item of stream.chunks) chunks.push(item);
  assert.equal(chunks.map((item) => item.choices[0]?.delta.content ?? '').join(''), 'Use the reset link.');
  assert.equal(chatCalls(), 1);
});

test('when every route fails with an outage, the nearest acceptable neighbour is served, marked degraded, with lower confidence', async () => {
  let down = false;
  const { engine, metrics } = setup({
    chat: () =>
      down
        ? new ProviderError({
            kind: 'overloaded',
            message: 'overloaded',
            upstreamStatus: 503,
            provider: 'openai',
          })
        : textResponse('Reset it from the login page.'),
  });
  await engine.chat(ask('How do I reset my account password?'));
  down = true;
  // Reworded beyond the hit threshold but within the fallback threshold.
  const degraded = await engine.chat(ask('How can I reset the password of my account quickly?'));
  assert.equal(degraded.meta.cacheStatus, 'semantic-hit');
  assert.equal(degraded.meta.semantic?.degraded, true);
  assert.ok((degraded.meta.semantic?.confidence ?? 1) <= 0.5);
  assert.equal(degraded.response.choices[0]?.message.content, 'Reset it from the login page.');
  // Nothing close enough: the outage error reaches the caller.
  await assert.rejects(
    engine.chat(ask('Which plans include single sign-on?')),
    (error: ProviderError) => error.status === 503,
  );
  const text = await metrics.render();
  assert.match(text, /pipewright_cache_events_total\{event="degraded_answer"\} 1/);
  assert.match(text, /pipewright_cache_semantic_entries 1/);
});

test('a degraded answer reuses the request embedding (the embedder may share the outage), and no-cache gets the error instead', async () => {
  let down = false;
  let embedCalls = 0;
  const overloaded = () =>
    new ProviderError({ kind: 'overloaded', message: 'overloaded', upstreamStatus: 503, provider: 'openai' });
  const client = createFakeProviderClient({
    chat: () => (down ? overloaded() : textResponse('Reset it from the login page.')),
    // Embeddings work for the first lookup of each request, then go down with the chat model.
    embed: (input) => (down && embedCalls++ > 0 ? overloaded() : embedScript(input)),
  });
  const engine = createEngine({ config: baseConfig, client });
  await engine.chat(ask('How do I reset my account password?'));
  down = true;
  const degraded = await engine.chat(ask('How can I reset the password of my account quickly?'));
  assert.equal(degraded.meta.semantic?.degraded, true);
  assert.equal(embedCalls, 1, 'one embedding for the request, reused by the degraded lookup');
  await assert.rejects(
    engine.chat(ask('How can I reset the password of my account quickly?'), { cache: 'no-cache' }),
    (error: ProviderError) => error.status === 503,
  );
});

test('errors about the request itself are never papered over with a cached neighbour', async () => {
  let fail = false;
  const { engine } = setup({
    chat: () =>
      fail
        ? new ProviderError({
            kind: 'invalid_request',
            message: 'bad',
            upstreamStatus: 400,
            provider: 'openai',
          })
        : textResponse('ok'),
  });
  await engine.chat(ask('How do I reset my account password?'));
  fail = true;
  await assert.rejects(
    engine.chat(ask('How can I reset the password of my account quickly?')),
    (error: ProviderError) => error.status === 400,
  );
});

test('a failing embedder never fails the call: it goes upstream as a miss and the failure is reported', async () => {
  const client = createFakeProviderClient({
    embed: () =>
      new ProviderError({
        kind: 'server_error',
        message: 'embedder down',
        upstreamStatus: 500,
        provider: 'openai',
      }),
  });
  const errors: string[] = [];
  const metrics = createMetrics();
  const engine = createEngine({
    config: baseConfig,
    client,
    metrics,
    onCacheError: (_error, operation) => void errors.push(operation),
  });
  const result = await engine.chat(ask('How do I reset my password?'));
  assert.equal(result.meta.cacheStatus, 'miss');
  assert.ok(errors.includes('semantic-lookup'));
  assert.ok(errors.includes('semantic-store'));
  // The exact cache still works.
  assert.equal((await engine.chat(ask('How do I reset my password?'))).meta.cacheStatus, 'hit');
  const text = await metrics.render();
  assert.match(text, /pipewright_cache_events_total\{event="semantic_lookup_failed"\} 1/);
  assert.match(text, /pipewright_cache_events_total\{event="semantic_store_failed"\} 1/);
  assert.match(text, /pipewright_cache_events_total\{event="degraded_answer"\} 0/);
});

test('a step served from a semantic hit carries the match confidence', async () => {
  const { engine } = setup({ chat: () => textResponse('Paris') });
  engine.registerStepType({
    name: 'ask',
    modelGroup: 'fast',
    parameters: { temperature: 0 },
    buildMessages: (input: { question: string }) => [{ role: 'user', content: input.question }],
  });
  const first = await engine.run('ask', { question: 'How do I reset my account password?' });
  assert.equal(first.confidence, 1);
  const second = await engine.run('ask', { question: 'How can I reset the password of my account?' });
  assert.equal(second.cacheStatus, 'semantic-hit');
  assert.equal(second.output, 'Paris');
  const match = second.calls[0]?.semantic;
  assert.ok(match !== undefined && match.confidence < 1);
  assert.equal(second.confidence, match.confidence);
});

test('semantic settings are validated with the field named', () => {
  assert.throws(
    () => createEngine({ config: { ...baseConfig, cache: { semantic: { enabled: true, threshold: 1.5 } } } }),
    (error: Error) => /cache\.semantic\.threshold/.test(error.message),
  );
  assert.throws(
    () =>
      createEngine({
        config: { ...baseConfig, cache: { semantic: { enabled: true, embedder: { modelGroup: 'nope' } } } },
      }),
    (error: Error) => /cache\.semantic\.embedder\.modelGroup: unknown model group "nope"/.test(error.message),
  );
  assert.throws(
    () => createEngine({ config: { ...baseConfig, cache: { backend: 'redis' } } }),
    (error: Error) => /cache\.backend/.test(error.message),
  );
});

test('a semantic entry never outlives a change of its model group configuration (and survives when nothing changed)', async () => {
  const saved = new Map<string, SemanticCacheRecord>();
  const persistence: SemanticCachePersistence = {
    save: async (record) => void saved.set(record.id, structuredClone(record)),
    delete: async (id) => void saved.delete(id),
    loadAll: async () => [...saved.values()].map((record) => structuredClone(record)),
  };
  // A new engine rebuilds its index from the store in the background; ready() waits for it.
  const engineWith = async (config: typeof baseConfig) => {
    const engine = createEngine({
      config,
      client: createFakeProviderClient({ embed: embedScript }),
      semanticCachePersistence: persistence,
    });
    await engine.ready();
    return engine;
  };
  await (await engineWith(baseConfig)).chat(ask('How do I reset my password?'));
  assert.equal(saved.size, 1);
  // Same configuration, a new engine (a restart): the persisted entry is served.
  assert.equal(
    (await (await engineWith(baseConfig)).chat(ask('how do I reset my password'))).meta.cacheStatus,
    'semantic-hit',
  );
  // The model group's deployment now points at another model: nothing stored before may answer.
  const changed = {
    ...baseConfig,
    deployments: baseConfig.deployments.map((deployment) =>
      deployment.id === 'primary' ? { ...deployment, model: 'gpt-4o' } : deployment,
    ),
  };
  assert.equal(
    (await (await engineWith(changed)).chat(ask('how do I reset my password'))).meta.cacheStatus,
    'miss',
  );
  // The embeddings now come from another model: its vectors are another space, never compared with the stored ones.
  const otherEmbeddings = {
    ...baseConfig,
    deployments: baseConfig.deployments.map((deployment) =>
      deployment.id === 'embedder' ? { ...deployment, model: 'text-embedding-3-large' } : deployment,
    ),
  };
  assert.equal(
    (await (await engineWith(otherEmbeddings)).chat(ask('how do I reset my password'))).meta.cacheStatus,
    'miss',
  );
});
