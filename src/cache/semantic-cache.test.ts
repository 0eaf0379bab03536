import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embedText } from '../providers/sim/index.ts';
import type { ChatRequest } from '../spec/index.ts';
import { cosineSimilarity } from './embedder.ts';
import { createLocalEmbedder } from './local-embedder.ts';
import { createProviderEmbedder } from './provider-embedder.ts';
import {
  createSemanticCache,
  type SemanticCacheRecord,
  type SemanticCachePersistence,
} from './semantic-cache.ts';
import { createVectorIndex } from './vector-index.ts';
import { chatRequest, chatResponse, createManualClock, scopeFor } from './test-support.ts';

const avoided = { costUsd: 0.01, latencyMs: 900 };
const settings = { threshold: 0.8, guard: true, multiTurn: false };
const answer = (text: string) => ({ kind: 'response' as const, response: chatResponse(text) });

// The sim's deterministic embeddings keep the mechanics tests fast; one test below uses the real model.
function simEmbedder(calls: string[][] = []) {
  return createProviderEmbedder({
    id: 'provider:sim',
    embed: async (inputs) => {
      calls.push(inputs);
      return inputs.map((text) => embedText(text, 128));
    },
  });
}

function setup(
  options: {
    maxEntriesPerNamespace?: number;
    maxEntries?: number;
    persistence?: SemanticCachePersistence;
  } = {},
) {
  const clock = createManualClock();
  return { clock, cache: createSemanticCache({ embedder: simEmbedder(), clock, ...options }) };
}

function memoryPersistence(): SemanticCachePersistence & { records: Map<string, SemanticCacheRecord> } {
  const records = new Map<string, SemanticCacheRecord>();
  return {
    records,
    save: async (record) => {
      records.set(record.id, structuredClone(record));
    },
    delete: async (id) => {
      records.delete(id);
    },
    loadAll: async () => [...records.values()].map((record) => structuredClone(record)),
  };
}

test('the provider embedder sends texts asked for together in one batch, and checks what comes back', async () => {
  const calls: string[][] = [];
  const embedder = simEmbedder(calls);
  const [a, b, c] = await Promise.all([
    embedder.embed(['one']),
    embedder.embed(['two', 'three']),
    embedder.embed(['four']),
  ]);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0], ['one', 'two', 'three', 'four']);
  assert.equal(a.length + b.length + c.length, 4);
  const small = createProviderEmbedder({
    id: 'p',
    batchSize: 2,
    embed: async (inputs) => {
      calls.push(inputs);
      return inputs.map(() => [1, 0]);
    },
  });
  await small.embed(['a', 'b', 'c']);
  assert.deepEqual(calls.slice(1), [['a', 'b'], ['c']]);
  const broken = createProviderEmbedder({ id: 'broken', embed: async () => [[1, 0]] });
  await assert.rejects(broken.embed(['a', 'b']), /asked for 2 embeddings, got 1/);
});

test('the provider embedder never mixes tenants in one call: each batch is sent under its tenant', async () => {
  const calls: Array<{ inputs: string[]; tenantId: string | undefined }> = [];
  const embedder = createProviderEmbedder({
    id: 'provider:sim',
    embed: async (inputs, _signal, tenantId) => {
      calls.push({ inputs, tenantId });
      return inputs.map((text) => embedText(text, 16));
    },
  });
  await Promise.all([
    embedder.embed(['a1', 'a2'], undefined, 'acme'),
    embedder.embed(['g1'], undefined, 'globex'),
    embedder.embed(['a3'], undefined, 'acme'),
  ]);
  assert.deepEqual(
    calls.map((call) => [call.tenantId, call.inputs]),
    [
      ['acme', ['a1', 'a2', 'a3']],
      ['globex', ['g1']],
    ],
  );
});

test('the vector index finds the nearest vectors, forgets removed ones and grows', () => {
  const index = createVectorIndex({ dimensions: 3, initialCapacity: 16 });
  for (let label = 0; label < 40; label++)
    index.add(label, Float32Array.of(Math.cos(label / 10), Math.sin(label / 10), 0));
  const nearest = index.search(Float32Array.of(Math.cos(0.5), Math.sin(0.5), 0), 2);
  assert.equal(nearest[0]?.label, 5);
  assert.ok((nearest[0]?.similarity ?? 0) > 0.999);
  index.remove(5);
  assert.notEqual(index.search(Float32Array.of(Math.cos(0.5), Math.sin(0.5), 0), 1)[0]?.label, 5);
  assert.equal(index.size(), 39);
  assert.throws(() => index.add(1, Float32Array.of(1, 0)), /dimensions/);
});

test('a reworded single-turn request is served with its similarity and confidence', async () => {
  const { cache } = setup();
  const scope = scopeFor('t1');
  assert.equal((await cache.lookup(scope, chatRequest('How do I reset my password?'), settings)).hit, false);
  assert.equal(
    await cache.store(
      scope,
      chatRequest('How do I reset my password?'),
      answer('Click "forgot password".'),
      avoided,
      { ttlMs: 60_000, multiTurn: false },
    ),
    true,
  );
  const result = await cache.lookup(scope, chatRequest('how do I reset my password'), settings);
  assert.equal(result.hit, true);
  if (!result.hit) return;
  assert.equal(
    result.answer.kind === 'response' ? result.answer.response.choices[0]?.message.content : undefined,
    'Click "forgot password".',
  );
  assert.ok(result.similarity > 0.99);
  assert.ok(result.confidence > 0.9 && result.confidence <= 1);
  assert.deepEqual(result.avoided, avoided);
  assert.equal(result.matchedText, 'How do I reset my password?');
});

test('the guard refuses a close neighbour that asks about another number; without it the wrong answer is served', async () => {
  const { cache } = setup();
  const scope = scopeFor('t1');
  await cache.store(
    scope,
    chatRequest('What is the population of France in 2010?'),
    answer('65 million'),
    avoided,
    { ttlMs: 60_000, multiTurn: false },
  );
  const question = chatRequest('What is the population of France in 2020?');
  const guarded = await cache.lookup(scope, question, { ...settings, threshold: 0.5 });
  assert.equal(guarded.hit, false);
  assert.equal(guarded.hit ? undefined : guarded.guardReason, 'numbers');
  const unguarded = await cache.lookup(scope, question, { ...settings, threshold: 0.5, guard: false });
  assert.equal(unguarded.hit, true);
});

test('only single-turn text requests are eligible unless multi-turn is configured; the system prompt is part of the namespace', async () => {
  const { cache } = setup();
  const scope = scopeFor('t1');
  const conversation: ChatRequest = {
    model: 'fast',
    temperature: 0,
    messages: [
      { role: 'user', content: 'My name is Ann.' },
      { role: 'assistant', content: 'Hello Ann.' },
      { role: 'user', content: 'What is my name?' },
    ],
  };
  assert.equal(
    await cache.store(scope, conversation, answer('Ann'), avoided, { ttlMs: 60_000, multiTurn: false }),
    false,
  );
  assert.deepEqual(await cache.lookup(scope, conversation, settings), { hit: false, reason: 'not-eligible' });
  await cache.store(scope, conversation, answer('Ann'), avoided, { ttlMs: 60_000, multiTurn: true });
  assert.equal((await cache.lookup(scope, conversation, { ...settings, multiTurn: true })).hit, true);
  const otherHistory: ChatRequest = {
    ...conversation,
    messages: [
      { role: 'user', content: 'My name is Bob.' },
      { role: 'assistant', content: 'Hello Bob.' },
      { role: 'user', content: 'What is my name?' },
    ],
  };
  assert.equal((await cache.lookup(scope, otherHistory, { ...settings, multiTurn: true })).hit, false);

  const withSystem = (system: string): ChatRequest => ({
    model: 'fast',
    temperature: 0,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: 'Summarise our refund policy' },
    ],
  });
  await cache.store(scope, withSystem('Answer in English.'), answer('30 days'), avoided, {
    ttlMs: 60_000,
    multiTurn: false,
  });
  assert.equal((await cache.lookup(scope, withSystem('Answer in English.'), settings)).hit, true);
  assert.equal((await cache.lookup(scope, withSystem('Answer in French.'), settings)).hit, false);
  const image: ChatRequest = {
    model: 'fast',
    messages: [
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
    ],
  };
  assert.deepEqual(await cache.lookup(scope, image, settings), { hit: false, reason: 'not-eligible' });
});

test('entries expire, and the namespace and total bounds evict the least recently used', async () => {
  const { cache, clock } = setup({ maxEntriesPerNamespace: 2, maxEntries: 3 });
  const scope = scopeFor('t1');
  const store = (text: string, target = scope) =>
    cache.store(target, chatRequest(text), answer(text), avoided, { ttlMs: 10_000, multiTurn: false });
  const hit = async (text: string, target = scope) =>
    (await cache.lookup(target, chatRequest(text), { ...settings, threshold: 0.99 })).hit;
  await store('alpha question about apples');
  await store('beta question about bananas');
  assert.equal(await hit('alpha question about apples'), true); // alpha is now the most recently used
  await store('gamma question about grapes');
  assert.equal(await hit('beta question about bananas'), false);
  assert.equal(await hit('alpha question about apples'), true);
  assert.equal(cache.stats().entries, 2);
  await store('delta question about dates', scopeFor('t1', { stepType: 'other' }));
  await store('epsilon question about eggs', scopeFor('t1', { stepType: 'other' }));
  assert.equal(cache.stats().entries, 3);
  clock.advance(10_000);
  assert.equal(await hit('alpha question about apples'), false);
});

test('restore rebuilds the index from persisted entries and drops the expired ones', async () => {
  const persistence = memoryPersistence();
  const first = setup({ persistence });
  const scope = scopeFor('t1');
  await first.cache.store(
    scope,
    chatRequest('How do I export my data?'),
    answer('Settings → Export'),
    avoided,
    { ttlMs: 60_000, multiTurn: false },
  );
  await first.cache.store(scope, chatRequest('Short lived question here'), answer('soon gone'), avoided, {
    ttlMs: 1_000,
    multiTurn: false,
  });
  assert.equal(persistence.records.size, 2);
  const clock = createManualClock();
  clock.advance(5_000);
  const second = createSemanticCache({ embedder: simEmbedder(), clock, persistence });
  assert.equal(await second.restore(), 1);
  assert.equal(persistence.records.size, 1);
  assert.equal((await second.lookup(scope, chatRequest('how do I export my data'), settings)).hit, true);
});

test('the local embedder (Universal Sentence Encoder, offline) places paraphrases and concepts together', async () => {
  const embedder = createLocalEmbedder();
  await embedder.load();
  const [learn, fastest, rice] = await embedder.embed([
    'How do I learn Python quickly?',
    'What is the fastest way to learn Python?',
    'How do I cook rice?',
  ]);
  assert.equal(learn?.length, 512);
  assert.ok(cosineSimilarity(learn!, fastest!) > cosineSimilarity(learn!, rice!) + 0.3);
  const cache = createSemanticCache({ embedder, clock: createManualClock() });
  const scope = scopeFor('t1');
  await cache.store(
    scope,
    chatRequest('What is AI used for in B2B sales?'),
    answer('lead scoring'),
    avoided,
    { ttlMs: 60_000, multiTurn: false },
  );
  const result = await cache.lookup(
    scope,
    chatRequest('what is artificial intelligence used for in business-to-business sales'),
    { ...settings, threshold: 0.95 },
  );
  assert.equal(result.hit, true);
});

test('a full namespace evicts its own least recently used entry, never another namespace’s', async () => {
  const { cache } = setup({ maxEntriesPerNamespace: 3 });
  const chat = scopeFor('t1');
  const other = scopeFor('t1', { stepType: 'other' });
  const store = (text: string, target = chat) =>
    cache.store(target, chatRequest(text), answer(text), avoided, { ttlMs: 60_000, multiTurn: false });
  const hit = async (text: string, target = chat) =>
    (await cache.lookup(target, chatRequest(text), { ...settings, threshold: 0.99 })).hit;
  await store('oldest entry of all about oranges', other); // the least recently used overall, in the other namespace
  await store('first question about apples');
  await store('second question about bananas');
  await store('third question about cherries');
  assert.equal(await hit('first question about apples'), true); // now the second is the namespace's least recently used
  await store('fourth question about dates');
  assert.equal(cache.stats().entries, 4);
  assert.equal(await hit('second question about bananas'), false);
  for (const text of [
    'first question about apples',
    'third question about cherries',
    'fourth question about dates',
  ])
    assert.equal(await hit(text), true, text);
  assert.equal(await hit('oldest entry of all about oranges', other), true);
});

function storedRecord(
  id: number,
  namespace: string,
  createdAt: number,
  expiresAt = createdAt + 3_600_000,
): SemanticCacheRecord {
  const angle = id / 1_000;
  return {
    id: `record-${id}`,
    namespace,
    tenant: 't1',
    text: `question ${id}`,
    vector: [Math.cos(angle), Math.sin(angle), 0, 0],
    answer: answer(`answer ${id}`),
    createdAt,
    expiresAt,
    avoided,
  };
}

test('restore keeps the newest entries each bound allows, drops the rest from the store, and rebuilds the LRU order', async () => {
  const persistence = memoryPersistence();
  const clock = createManualClock();
  const now = clock.now();
  // Stored in no particular order: restore orders by creation time.
  const ids = Array.from({ length: 3_000 }, (_, index) => (index * 7_919) % 3_000);
  for (const id of ids)
    await persistence.save(storedRecord(id, id % 3 === 0 ? 'small' : 'large', now - 10_000 + id));
  await persistence.save(storedRecord(9_999, 'large', now - 20_000, now - 1));
  const cache = createSemanticCache({
    embedder: simEmbedder(),
    clock,
    persistence,
    maxEntriesPerNamespace: 1_500,
    maxEntries: 1_600,
  });
  const started = performance.now();
  assert.equal(await cache.restore(), 1_600);
  const elapsedMs = performance.now() - started;
  assert.deepEqual(cache.stats(), { entries: 1_600, namespaces: 2 });
  const kept = [...persistence.records.values()];
  assert.equal(kept.length, 1_600);
  // The 1,600 newest across both namespaces (ids 1,400..2,999), the expired one gone.
  assert.deepEqual(
    kept.map((record) => Number(record.id.slice('record-'.length))).sort((a, b) => a - b),
    Array.from({ length: 1_600 }, (_, index) => 1_400 + index),
  );
  assert.ok(elapsedMs < 5_000, `restore took ${elapsedMs} ms`);
});

test('restore caps a namespace at its bound, and the oldest restored entry is the first evicted afterwards', async () => {
  const persistence = memoryPersistence();
  const first = setup({ persistence });
  const scope = scopeFor('t1');
  const texts = [
    'apples are red fruit',
    'bananas are yellow fruit',
    'cherries are small fruit',
    'dates are sweet fruit',
  ];
  for (const text of texts) {
    await first.cache.store(scope, chatRequest(text), answer(text), avoided, {
      ttlMs: 60_000,
      multiTurn: false,
    });
    first.clock.advance(1);
  }
  const clock = createManualClock();
  clock.advance(10);
  const second = createSemanticCache({
    embedder: simEmbedder(),
    clock,
    persistence,
    maxEntriesPerNamespace: 3,
  });
  assert.equal(await second.restore(), 3);
  assert.equal(persistence.records.size, 3, 'the entry over the bound is deleted from the store');
  const hit = async (text: string) =>
    (await second.lookup(scope, chatRequest(text), { ...settings, threshold: 0.99 })).hit;
  assert.equal(await hit('apples are red fruit'), false);
  await second.store(scope, chatRequest('elderberries are dark fruit'), answer('e'), avoided, {
    ttlMs: 60_000,
    multiTurn: false,
  });
  assert.equal(await hit('bananas are yellow fruit'), false, 'the oldest restored entry went first');
  assert.equal(await hit('cherries are small fruit'), true);
  assert.equal(await hit('dates are sweet fruit'), true);
});

test('a large restore gives the event loop back while it builds the index, and a newer store made meanwhile wins', async () => {
  const persistence = memoryPersistence();
  const { cache: first } = setup({ persistence });
  for (let index = 0; index < 600; index += 1)
    await first.store(
      scopeFor('tenant_a'),
      chatRequest(`stored question number ${index}`),
      answer(`old ${index}`),
      avoided,
      { ttlMs: 60_000, multiTurn: false },
    );
  const { cache: second } = setup({ persistence });
  let ticks = 0;
  const ticker = setInterval(() => (ticks += 1), 0);
  const restoring = second.restore();
  // Stored while the restore runs: newer than its persisted record.
  await second.store(
    scopeFor('tenant_a'),
    chatRequest('stored question number 5'),
    answer('new 5'),
    avoided,
    { ttlMs: 60_000, multiTurn: false },
  );
  assert.equal(await restoring, 600);
  clearInterval(ticker);
  assert.ok(ticks > 0, 'timers ran while the index was being rebuilt');
  const found = await second.lookup(scopeFor('tenant_a'), chatRequest('stored question number 5'), settings);
  assert.ok(found.hit);
  assert.equal(
    found.answer.kind === 'response' ? found.answer.response.choices[0]?.message.content : undefined,
    'new 5',
  );
});

test('with a per-tenant bound, a busy tenant evicts its own least recently used entries, never another tenant’s', async () => {
  const clock = createManualClock();
  const cache = createSemanticCache({
    embedder: simEmbedder(),
    clock,
    maxEntries: 100,
    maxEntriesPerTenant: 3,
  });
  const store = (tenant: string, text: string) =>
    cache.store(scopeFor(tenant), chatRequest(text), answer(text), avoided, {
      ttlMs: 60_000,
      multiTurn: false,
    });
  const hit = async (tenant: string, text: string) =>
    (await cache.lookup(scopeFor(tenant), chatRequest(text), settings)).hit;
  await store('quiet', 'what are your opening hours');
  for (const text of [
    'apples are red fruit',
    'bananas are yellow fruit',
    'cherries are small fruit',
    'dates grow on palms',
  ])
    await store('busy', text);
  assert.equal(await hit('quiet', 'what are your opening hours'), true);
  assert.equal(await hit('busy', 'apples are red fruit'), false, 'the busy tenant’s oldest went');
  assert.equal(await hit('busy', 'bananas are yellow fruit'), true);
  assert.equal(cache.stats().entries, 4);
});
