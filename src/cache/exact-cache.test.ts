import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../core/index.ts';
import type { ChatChunk } from '../spec/index.ts';
import { createMemoryCacheBackend } from './cache-backend.ts';
import { parseCacheControl } from './cache-control.ts';
import { createCacheKey } from './cache-key.ts';
import { parseCachePolicyConfig } from './cache-policy.ts';
import { assembleChunks, replayChunks, toChatChunks, toChatResponse } from './cached-answer.ts';
import { createExactCache } from './exact-cache.ts';
import { chatRequest, chatResponse, contentChunk, createManualClock, scopeFor } from './test-support.ts';

const avoided = { costUsd: 0.002, latencyMs: 800 };
const none = parseCacheControl(undefined);

function setup(maxBytes = 1 << 20, policy = {}) {
  const clock = createManualClock();
  const backend = createMemoryCacheBackend({ maxBytes, clock });
  return { clock, backend, cache: createExactCache({ backend, clock, policy }) };
}

test('the key ignores who asked and how the answer is delivered, and is a short hash', () => {
  const scope = scopeFor('t1');
  const base = createCacheKey(scope, chatRequest('hello'));
  assert.match(base, /^pw:v1:[0-9a-f]{64}$/);
  const same = createCacheKey(
    scope,
    chatRequest('hello', {
      user: 'alice',
      metadata: { trace: 'x' },
      stream: true,
      stream_options: { include_usage: true },
      model: 'alias',
    }),
  );
  assert.equal(same, base);
  const long = createCacheKey(scope, chatRequest('x'.repeat(100_000)));
  assert.equal(long.length, base.length);
});

test('the key changes with every field that changes the answer, and with scope', () => {
  const scope = scopeFor('t1');
  const base = createCacheKey(scope, chatRequest('hello'));
  const variants = [
    createCacheKey(scope, chatRequest('hello!')),
    createCacheKey(scope, chatRequest('hello', { temperature: 0.5 })),
    createCacheKey(scope, chatRequest('hello', { seed: 7 })),
    createCacheKey(scope, chatRequest('hello', { max_tokens: 10 })),
    createCacheKey(scope, chatRequest('hello', { stop: ['\n'] })),
    createCacheKey(scope, chatRequest('hello', { n: 2 })),
    createCacheKey(scope, chatRequest('hello', { top_p: 0.5 })),
    createCacheKey(scope, chatRequest('hello', { response_format: { type: 'json_object' } })),
    createCacheKey(scope, chatRequest('hello', { tools: [{ type: 'function', function: { name: 'f' } }] })),
    createCacheKey(scope, chatRequest('hello', { tool_choice: 'required' })),
    createCacheKey(scope, { ...chatRequest('hello'), reasoning_effort: 'high' }),
    createCacheKey(scopeFor('t2'), chatRequest('hello')),
    createCacheKey(scopeFor('t1', { stepType: 'summarize' }), chatRequest('hello')),
    createCacheKey(scopeFor('t1', { modelGroup: 'smart' }), chatRequest('hello')),
    createCacheKey(scopeFor('t1', { configFingerprint: 'config-2' }), chatRequest('hello')),
  ];
  assert.equal(new Set([base, ...variants]).size, variants.length + 1);
});

test('cache-control directives parse strictly and bad ones name the directive', () => {
  assert.deepEqual(parseCacheControl('No-Store , ttl=60'.replace('ttl=60', 'no-cache')), {
    noStore: true,
    noCache: true,
    forceRefresh: false,
  });
  assert.deepEqual(parseCacheControl('ttl=60, force-refresh'), {
    noStore: false,
    noCache: false,
    forceRefresh: true,
    ttlSeconds: 60,
  });
  assert.deepEqual(parseCacheControl('  '), { noStore: false, noCache: false, forceRefresh: false });
  for (const [value, mention] of [
    ['nostore', '"nostore"'],
    ['ttl=abc', '"ttl=abc"'],
    ['ttl=0', '"ttl=0"'],
    ['ttl', '"ttl"'],
    ['no-store,,no-cache', 'stray comma'],
    ['no-cache, no-cache', 'repeated'],
    ['no-store, ttl=5', 'contradict'],
  ] as const) {
    assert.throws(
      () => parseCacheControl(value),
      (error: unknown) => {
        assert.ok(PipewrightError.isInstance(error));
        assert.equal(error.code, 'request.invalid');
        assert.equal(error.param, 'x-pipewright-cache-control');
        assert.ok(error.message.includes(mention), error.message);
        return true;
      },
    );
  }
});

test('a stored answer is served to the identical request and expires after its TTL', async () => {
  const { cache, clock } = setup();
  const plan = cache.plan(scopeFor('t1'), chatRequest('hello'), none);
  assert.equal(await cache.lookup(plan), undefined);
  assert.equal(
    await cache.store(plan, { kind: 'response', response: chatResponse('hi there') }, avoided),
    true,
  );
  const again = cache.plan(scopeFor('t1'), chatRequest('hello', { user: 'bob' }), none);
  const hit = await cache.lookup(again);
  assert.equal(hit?.entry.answer.kind, 'response');
  assert.equal(toChatResponse(hit.entry.answer).choices[0]?.message.content, 'hi there');
  assert.deepEqual(hit.entry.avoided, avoided);
  clock.advance(3600 * 1000);
  assert.equal(await cache.lookup(again), undefined);
});

test('ttl= sets the lifetime of the stored answer', async () => {
  const { cache, clock } = setup();
  const plan = cache.plan(scopeFor('t1'), chatRequest('hello'), parseCacheControl('ttl=10'));
  await cache.store(plan, { kind: 'response', response: chatResponse('hi') }, avoided);
  clock.advance(9_000);
  assert.notEqual(await cache.lookup(plan), undefined);
  clock.advance(1_000);
  assert.equal(await cache.lookup(plan), undefined);
});

test('no-store, no-cache and force-refresh change what is read, written and joined', async () => {
  const { cache } = setup();
  const request = chatRequest('hello');
  const noStore = cache.plan(scopeFor('t1'), request, parseCacheControl('no-store'));
  assert.equal(await cache.store(noStore, { kind: 'response', response: chatResponse('a') }, avoided), false);
  assert.equal(await cache.lookup(noStore), undefined);
  await cache.store(
    cache.plan(scopeFor('t1'), request, none),
    { kind: 'response', response: chatResponse('a') },
    avoided,
  );
  const noCache = cache.plan(scopeFor('t1'), request, parseCacheControl('no-cache'));
  assert.equal(await cache.lookup(noCache), undefined);
  assert.equal(noCache.decision.joinInFlight, true);
  const refresh = cache.plan(scopeFor('t1'), request, parseCacheControl('force-refresh'));
  assert.equal(refresh.decision.joinInFlight, false);
  await cache.invalidate(refresh);
  await cache.store(refresh, { kind: 'response', response: chatResponse('b') }, avoided);
  const hit = await cache.lookup(cache.plan(scopeFor('t1'), request, none));
  assert.equal(
    hit === undefined ? undefined : toChatResponse(hit.entry.answer).choices[0]?.message.content,
    'b',
  );
});

test('temperature > 0 without a seed is not cached by default, unless configured or opted in', async () => {
  const { cache } = setup(1 << 20, {
    modelGroups: { creative: { cacheNonDeterministic: true } },
    stepTypes: { draft: { enabled: false } },
  });
  const warm = chatRequest('write a poem', { temperature: 0.9 });
  const plan = cache.plan(scopeFor('t1'), warm, none);
  assert.equal(plan.decision.read, false);
  assert.equal(plan.decision.write, false);
  assert.match(plan.decision.reason, /temperature/);
  assert.equal(cache.plan(scopeFor('t1'), { ...warm, seed: 1 }, none).decision.write, true);
  assert.equal(
    cache.plan(scopeFor('t1'), { model: 'fast', messages: warm.messages }, none).decision.write,
    false,
  );
  assert.equal(cache.plan(scopeFor('t1', { modelGroup: 'creative' }), warm, none).decision.write, true);
  assert.equal(cache.plan(scopeFor('t1'), warm, parseCacheControl('ttl=60')).decision.write, true);
  assert.equal(
    cache.plan(scopeFor('t1', { stepType: 'draft' }), chatRequest('x'), none).decision.read,
    false,
  );
});

test('a bad policy names the field', () => {
  assert.throws(
    () => parseCachePolicyConfig({ modelGroups: { fast: { ttlSeconds: -1 } } }),
    /cache\.modelGroups\.fast\.ttlSeconds/,
  );
  assert.throws(() => parseCachePolicyConfig({ defaults: { enabbled: true } }), /enabbled/);
});

test('the backend is bounded in bytes and evicts the least recently used entry', async () => {
  const big = 'x'.repeat(1_000);
  const probe = setup();
  await probe.cache.store(
    probe.cache.plan(scopeFor('t1'), chatRequest('a'), none),
    { kind: 'response', response: chatResponse(big) },
    avoided,
  );
  const entryBytes = (await probe.backend.stats()).bytes;
  const { cache, backend } = setup(Math.floor(entryBytes * 3.5));
  const plans = ['a', 'b', 'c'].map((name) => cache.plan(scopeFor('t1'), chatRequest(name), none));
  for (const plan of plans)
    await cache.store(plan, { kind: 'response', response: chatResponse(big) }, avoided);
  assert.equal((await backend.stats()).entries, 3);
  assert.notEqual(await cache.lookup(plans[0]!), undefined); // touch a: b is now the oldest
  await cache.store(
    cache.plan(scopeFor('t1'), chatRequest('d'), none),
    { kind: 'response', response: chatResponse(big) },
    avoided,
  );
  assert.notEqual(await cache.lookup(plans[0]!), undefined);
  assert.equal(await cache.lookup(plans[1]!), undefined);
  assert.ok((await backend.stats()).bytes <= Math.floor(entryBytes * 3.5));
  const oversized = cache.plan(scopeFor('t1'), chatRequest('e'), none);
  await cache.store(oversized, { kind: 'response', response: chatResponse('y'.repeat(10_000)) }, avoided);
  assert.equal(await cache.lookup(oversized), undefined);
});

test('a returned answer cannot be changed by its reader', async () => {
  const { cache } = setup();
  const plan = cache.plan(scopeFor('t1'), chatRequest('hello'), none);
  await cache.store(plan, { kind: 'response', response: chatResponse('original') }, avoided);
  const first = await cache.lookup(plan);
  if (first?.entry.answer.kind === 'response')
    first.entry.answer.response.choices[0]!.message.content = 'tampered';
  const second = await cache.lookup(plan);
  assert.equal(
    second === undefined ? undefined : toChatResponse(second.entry.answer).choices[0]?.message.content,
    'original',
  );
});

test('a streamed answer is stored as its chunks and replayed as the same stream; whole and stream convert', async () => {
  const { cache } = setup();
  const chunks: ChatChunk[] = [
    {
      ...contentChunk(''),
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    },
    contentChunk('Hel'),
    contentChunk('lo'),
    {
      ...contentChunk(''),
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } },
            ],
          },
          finish_reason: null,
        },
      ],
    },
    {
      ...contentChunk(''),
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] },
          finish_reason: null,
        },
      ],
    },
    contentChunk('', 'tool_calls'),
    { ...contentChunk(''), choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
  ];
  const plan = cache.plan(scopeFor('t1'), chatRequest('hello', { stream: true }), none);
  await cache.store(plan, { kind: 'stream', chunks }, avoided);
  const hit = await cache.lookup(cache.plan(scopeFor('t1'), chatRequest('hello'), none));
  assert.ok(hit !== undefined);
  const replayed: ChatChunk[] = [];
  for await (const chunk of replayChunks(toChatChunks(hit.entry.answer))) replayed.push(chunk);
  assert.deepEqual(replayed, chunks);
  const whole = toChatResponse(hit.entry.answer);
  assert.equal(whole.choices[0]?.message.content, 'Hello');
  assert.deepEqual(whole.choices[0]?.message.tool_calls, [
    { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
  ]);
  assert.equal(whole.choices[0]?.finish_reason, 'tool_calls');
  assert.equal(whole.usage?.total_tokens, 3);
  // A whole response replayed as a stream assembles back to itself.
  const response = chatResponse('round trip');
  assert.deepEqual(assembleChunks(toChatChunks({ kind: 'response', response })), response);
});
