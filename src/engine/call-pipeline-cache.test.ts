import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError, ProviderError } from '../core/index.ts';
import type { ChatChunk } from '../spec/index.ts';
import { createMetrics, type CallRecord, type TelemetryRecorder } from '../telemetry/index.ts';
import {
  chunk,
  createFakeProviderClient,
  textResponse,
  usageChunk,
} from '../../test/support/fake-provider-client.ts';
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
  ],
  modelGroups: [
    { name: 'fast', deployments: ['primary'] },
    { name: 'creative', deployments: ['primary'] },
  ],
};

const ask = (content: string, extra: Record<string, unknown> = { temperature: 0 }) => ({
  model: 'fast',
  messages: [{ role: 'user', content }],
  ...extra,
});

async function collect(chunks: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const seen: ChatChunk[] = [];
  for await (const item of chunks) seen.push(item);
  return seen;
}

const textOf = (chunks: ChatChunk[]) => chunks.map((item) => item.choices[0]?.delta.content ?? '').join('');

test('a second identical deterministic request is a hit: no upstream call, the same answer, and the saving recorded', async () => {
  const recorder = collectingRecorder();
  const metrics = createMetrics();
  const client = createFakeProviderClient();
  const engine = createEngine({ config, client, recorder, metrics });
  const first = await engine.chat(ask('hi'), { tenantId: 'acme', requestId: 'req_1' });
  assert.equal(first.meta.cacheStatus, 'miss');
  assert.equal(first.meta.savedCostUsd, null);
  const second = await engine.chat(ask('hi'), { tenantId: 'acme', requestId: 'req_2' });
  assert.equal(client.calls.length, 1);
  assert.equal(second.meta.cacheStatus, 'hit');
  assert.equal(second.meta.requestId, 'req_2');
  assert.deepEqual(second.response, first.response);
  assert.equal(second.meta.costUsd, 0);
  assert.ok(first.meta.costUsd !== null && first.meta.costUsd > 0);
  assert.equal(second.meta.savedCostUsd, first.meta.costUsd);
  assert.equal(second.meta.savedLatencyMs, first.meta.latencyMs);
  assert.equal(
    second.meta.deployment,
    'primary',
    'a hit still names the deployment that produced the answer',
  );
  assert.deepEqual(
    recorder.records.map((record) => [record.cacheStatus, record.savedCostUsd]),
    [
      ['miss', null],
      ['hit', first.meta.costUsd],
    ],
  );
  const text = await metrics.render();
  assert.match(text, /pipewright_cache_requests_total\{status="hit"\} 1/);
  assert.match(text, /pipewright_cache_requests_total\{status="miss"\} 1/);
  assert.match(text, new RegExp(`pipewright_cache_saved_cost_usd_total ${first.meta.costUsd}`));
  // Fields that do not change the answer do not change the key.
  const third = await engine.chat({ ...ask('hi'), user: 'someone', stream: false }, { tenantId: 'acme' });
  assert.equal(third.meta.cacheStatus, 'hit');
  assert.equal(client.calls.length, 1);
});

test('temperature > 0 (or none) without a seed bypasses the cache by default; a seed or a per-group rule caches it', async () => {
  const client = createFakeProviderClient();
  const engine = createEngine({
    config: { ...config, cache: { modelGroups: { creative: { cacheNonDeterministic: true } } } },
    client,
  });
  for (const extra of [{}, { temperature: 0.7 }]) {
    const first = await engine.chat(ask('vary', extra));
    const second = await engine.chat(ask('vary', extra));
    assert.equal(first.meta.cacheStatus, 'bypass');
    assert.equal(second.meta.cacheStatus, 'bypass');
  }
  assert.equal(client.calls.length, 4);
  await engine.chat(ask('seeded', { temperature: 0.7, seed: 3 }));
  assert.equal((await engine.chat(ask('seeded', { temperature: 0.7, seed: 3 }))).meta.cacheStatus, 'hit');
  await engine.chat({ ...ask('poem', { temperature: 1 }), model: 'creative' });
  assert.equal(
    (await engine.chat({ ...ask('poem', { temperature: 1 }), model: 'creative' })).meta.cacheStatus,
    'hit',
  );
  assert.equal(client.calls.length, 6);
});

test('cache directives: no-store does not write, no-cache does not read, force-refresh replaces the entry; a bad one names the option', async () => {
  let answer = 'one';
  const client = createFakeProviderClient({ chat: () => textResponse(answer) });
  const engine = createEngine({ config, client });
  const noStore = await engine.chat(ask('q'), { cache: 'no-store' });
  assert.equal(noStore.meta.cacheStatus, 'miss');
  assert.equal(
    (await engine.chat(ask('q'), { cache: 'no-store' })).meta.cacheStatus,
    'miss',
    'nothing was stored',
  );
  assert.equal(client.calls.length, 2);
  await engine.chat(ask('q'));
  assert.equal(client.calls.length, 3);
  const noCache = await engine.chat(ask('q'), { cache: 'no-cache' });
  assert.equal(noCache.meta.cacheStatus, 'bypass');
  assert.equal(client.calls.length, 4);
  answer = 'two';
  const refreshed = await engine.chat(ask('q'), { cache: 'force-refresh' });
  assert.equal(refreshed.response.choices[0]?.message.content, 'two');
  const after = await engine.chat(ask('q'));
  assert.equal(after.meta.cacheStatus, 'hit');
  assert.equal(after.response.choices[0]?.message.content, 'two', 'force-refresh replaced the stored answer');
  assert.equal(client.calls.length, 5);
  await assert.rejects(
    engine.chat(ask('q'), { cache: 'nostore' }),
    (error: unknown) =>
      PipewrightError.isInstance(error) && error.code === 'request.invalid' && error.param === 'cache',
  );
  assert.equal(client.calls.length, 5);
  // ttl= opts a non-deterministic request in.
  await engine.chat(ask('opt-in', { temperature: 0.9 }), { cache: 'ttl=60' });
  assert.equal(
    (await engine.chat(ask('opt-in', { temperature: 0.9 }), { cache: 'ttl=60' })).meta.cacheStatus,
    'hit',
  );
});

test('a streamed answer is cached and replayed as a stream, or whole; usage only when asked for', async () => {
  const client = createFakeProviderClient();
  const engine = createEngine({ config, client });
  const first = await engine.chatStream(ask('s'));
  assert.equal(first.meta.cacheStatus, 'miss');
  const original = await collect(first.chunks);
  assert.equal(textOf(original), 'Hello');
  assert.ok(
    original.every((item) => item.usage === undefined),
    'no usage chunk unless asked for',
  );
  await first.done;
  const replay = await engine.chatStream(ask('s'));
  assert.equal(replay.meta.cacheStatus, 'hit');
  assert.deepEqual(await collect(replay.chunks), original);
  const withUsage = await engine.chatStream({ ...ask('s'), stream_options: { include_usage: true } });
  const usageSeen = await collect(withUsage.chunks);
  assert.equal(usageSeen.at(-1)?.usage?.prompt_tokens, 7);
  const whole = await engine.chat(ask('s'));
  assert.equal(whole.meta.cacheStatus, 'hit');
  assert.equal(whole.response.choices[0]?.message.content, 'Hello');
  assert.equal(whole.response.choices[0]?.finish_reason, 'stop');
  assert.equal(client.calls.length, 1);
  assert.equal((await replay.done).cacheStatus, 'hit');
});

test('identical concurrent requests make one upstream call, whole and streamed; every caller gets the whole answer', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const client = createFakeProviderClient({
    chat: async () => {
      await gate;
      return textResponse('shared');
    },
    stream: () => [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'sha' }),
      gate.then(() => chunk({ content: 'red' })),
      chunk({}, 'stop'),
      usageChunk(3, 2),
    ],
  });
  const engine = createEngine({ config, client });
  const whole = [
    engine.chat(ask('c'), { requestId: 'a' }),
    engine.chat(ask('c'), { requestId: 'b' }),
    engine.chat(ask('c'), { requestId: 'c' }),
  ];
  const streams = [engine.chatStream(ask('c')), engine.chatStream(ask('c'))];
  // Every caller has reached the cache layer and joined before the upstream answers.
  await new Promise((resolve) => setImmediate(resolve));
  release();
  const answers = await Promise.all(whole);
  assert.deepEqual(
    answers.map((answer) => [answer.meta.requestId, answer.response.choices[0]?.message.content]),
    [
      ['a', 'shared'],
      ['b', 'shared'],
      ['c', 'shared'],
    ],
  );
  // The first caller went upstream; the others joined its call: `shared`, nothing spent, its cost saved.
  assert.deepEqual(
    answers.map((answer) => [answer.meta.cacheStatus, answer.meta.costUsd === 0]),
    [
      ['miss', false],
      ['shared', true],
      ['shared', true],
    ],
  );
  assert.equal(answers[1]?.meta.savedCostUsd, answers[0]?.meta.costUsd);
  const streamed = await Promise.all(
    (await Promise.all(streams)).map(async (stream) => textOf(await collect(stream.chunks))),
  );
  assert.deepEqual(streamed, ['shared', 'shared']);
  assert.deepEqual(
    client.calls.map((call) => call.operation),
    ['chat', 'stream'],
  );
});

test('tenant B never hits tenant A’s entry, nor joins its call in flight', async () => {
  const client = createFakeProviderClient();
  const engine = createEngine({ config, client });
  await engine.chat(ask('secret'), { tenantId: 'tenant-a' });
  const other = await engine.chat(ask('secret'), { tenantId: 'tenant-b' });
  assert.equal(other.meta.cacheStatus, 'miss');
  assert.equal(client.calls.length, 2);
  await Promise.all([
    engine.chat(ask('together'), { tenantId: 'tenant-a' }),
    engine.chat(ask('together'), { tenantId: 'tenant-b' }),
  ]);
  assert.equal(client.calls.length, 4);
});

test('a failed call is never cached, nor a stream cut after it started', async () => {
  let fail = true;
  const client = createFakeProviderClient({
    chat: () =>
      fail
        ? new ProviderError({
            kind: 'invalid_request',
            message: 'bad',
            provider: 'openai',
            upstreamStatus: 400,
          })
        : textResponse('fine'),
    stream: () =>
      fail
        ? [
            chunk({ role: 'assistant', content: '' }),
            chunk({ content: 'half' }),
            new ProviderError({ kind: 'stream_cut', message: 'cut', provider: 'openai' }),
          ]
        : [chunk({ role: 'assistant', content: '' }), chunk({ content: 'whole' }), chunk({}, 'stop')],
  });
  const engine = createEngine({ config, client });
  await assert.rejects(engine.chat(ask('f')));
  const cut = await engine.chatStream(ask('g'));
  await assert.rejects(collect(cut.chunks));
  fail = false;
  const retried = await engine.chat(ask('f'));
  assert.equal(retried.meta.cacheStatus, 'miss');
  assert.equal(retried.response.choices[0]?.message.content, 'fine');
  const again = await engine.chatStream(ask('g'));
  assert.equal(again.meta.cacheStatus, 'miss');
  assert.equal(textOf(await collect(again.chunks)), 'whole');
});

test('the cache can be turned off in configuration: every call goes upstream and says bypass', async () => {
  const client = createFakeProviderClient();
  const engine = createEngine({
    config: { ...config, cache: { enabled: false, singleFlight: false } },
    client,
  });
  const first = await engine.chat(ask('off'));
  const second = await engine.chat(ask('off'));
  assert.deepEqual([first.meta.cacheStatus, second.meta.cacheStatus], ['bypass', 'bypass']);
  assert.equal(client.calls.length, 2);
});

test('cache.maxBytesPerTenant: a busy tenant evicts its own oldest answers, never another tenant’s', async () => {
  // Answers of about 10 kB: two fit in a tenant's 25 kB share.
  const client = createFakeProviderClient({
    chat: (request) => textResponse(`${String(request.messages.at(-1)?.content)} ${'x'.repeat(10_000)}`),
  });
  const engine = createEngine({ config: { ...config, cache: { maxBytesPerTenant: 25_000 } }, client });
  await engine.chat(ask('quiet question'), { tenantId: 'quiet' });
  for (const question of ['q1', 'q2', 'q3']) await engine.chat(ask(question), { tenantId: 'busy' });
  assert.equal((await engine.chat(ask('quiet question'), { tenantId: 'quiet' })).meta.cacheStatus, 'hit');
  assert.equal((await engine.chat(ask('q3'), { tenantId: 'busy' })).meta.cacheStatus, 'hit');
  assert.equal((await engine.chat(ask('q1'), { tenantId: 'busy' })).meta.cacheStatus, 'miss');
});
