// Issue 4, point 6: no hit, semantic hit or single-flight join crosses tenants, and no entry
// outlives a change of its model group's configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embedText } from '../providers/sim/index.ts';
import { createMemoryCacheBackend } from './cache-backend.ts';
import { parseCacheControl } from './cache-control.ts';
import { fingerprintConfig } from './cache-key.ts';
import { createExactCache } from './exact-cache.ts';
import { createProviderEmbedder } from './provider-embedder.ts';
import { createSemanticCache } from './semantic-cache.ts';
import { createSingleFlight } from './single-flight.ts';
import { chatRequest, chatResponse, createManualClock, scopeFor } from './test-support.ts';

const avoided = { costUsd: 0.01, latencyMs: 500 };
const none = parseCacheControl(undefined);
const semanticSettings = { threshold: 0.5, guard: false, multiTurn: false };

function setup() {
  const clock = createManualClock();
  // One backend and one semantic cache shared by every tenant, as in a real gateway.
  const backend = createMemoryCacheBackend({ maxBytes: 1 << 20, clock });
  const exact = createExactCache({ backend, clock });
  const embedder = createProviderEmbedder({
    id: 'provider:sim',
    embed: async (inputs) => inputs.map((text) => embedText(text, 128)),
  });
  const semantic = createSemanticCache({ embedder, clock });
  return { exact, semantic };
}

test('an exact entry of one tenant is never served to another, even for a byte-identical request', async () => {
  const { exact } = setup();
  const request = chatRequest('What is our Q3 revenue?');
  await exact.store(
    exact.plan(scopeFor('acme'), request, none),
    { kind: 'response', response: chatResponse('acme: 12M') },
    avoided,
  );
  assert.equal(await exact.lookup(exact.plan(scopeFor('globex'), request, none)), undefined);
  assert.notEqual(await exact.lookup(exact.plan(scopeFor('acme'), request, none)), undefined);
});

test('a semantic neighbour of one tenant is never served to another, whatever the threshold', async () => {
  const { semantic } = setup();
  const request = chatRequest('What is our Q3 revenue?');
  await semantic.store(
    scopeFor('acme'),
    request,
    { kind: 'response', response: chatResponse('acme: 12M') },
    avoided,
    { ttlMs: 60_000, multiTurn: false },
  );
  const other = await semantic.lookup(scopeFor('globex'), request, { ...semanticSettings, threshold: 0 });
  assert.equal(other.hit, false);
  assert.equal((await semantic.lookup(scopeFor('acme'), request, semanticSettings)).hit, true);
});

test('a single-flight join never crosses tenants', async () => {
  const flights = createSingleFlight();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const calls: string[] = [];
  const callFor = (tenant: string) => async () => {
    calls.push(tenant);
    await gate;
    return `${tenant} answer`;
  };
  const acme = flights.run({ tenant: 'acme', key: 'same-request-key' }, callFor('acme'));
  const globex = flights.run({ tenant: 'globex', key: 'same-request-key' }, callFor('globex'));
  const acmeStream = flights.stream({ tenant: 'acme', key: 'same-request-key' }, async function* () {
    yield 'acme chunk';
  });
  const globexStream = flights.stream({ tenant: 'globex', key: 'same-request-key' }, async function* () {
    yield 'globex chunk';
  });
  release();
  assert.deepEqual(await acme, { value: 'acme answer', shared: false });
  assert.deepEqual(await globex, { value: 'globex answer', shared: false });
  assert.deepEqual(calls.sort(), ['acme', 'globex']);
  assert.equal(globexStream.shared, false);
  const read = async (chunks: AsyncIterable<string>) => {
    const out: string[] = [];
    for await (const chunk of chunks) out.push(chunk);
    return out;
  };
  assert.deepEqual(await read(acmeStream.chunks), ['acme chunk']);
  assert.deepEqual(await read(globexStream.chunks), ['globex chunk']);
});

test("no entry outlives a change of the model group's configuration", async () => {
  const { exact, semantic } = setup();
  const before = scopeFor('acme', {
    configFingerprint: fingerprintConfig({ deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] }),
  });
  const after = scopeFor('acme', {
    configFingerprint: fingerprintConfig({ deployments: [{ provider: 'anthropic', model: 'claude-haiku' }] }),
  });
  assert.notEqual(before.configFingerprint, after.configFingerprint);
  const request = chatRequest('Summarise the release notes');
  await exact.store(
    exact.plan(before, request, none),
    { kind: 'response', response: chatResponse('old model answer') },
    avoided,
  );
  await semantic.store(
    before,
    request,
    { kind: 'response', response: chatResponse('old model answer') },
    avoided,
    { ttlMs: 60_000, multiTurn: false },
  );
  assert.equal(await exact.lookup(exact.plan(after, request, none)), undefined);
  assert.equal((await semantic.lookup(after, request, { ...semanticSettings, threshold: 0 })).hit, false);
  // The same configuration (keys in another order) still hits.
  const same = scopeFor('acme', {
    configFingerprint: fingerprintConfig({ deployments: [{ model: 'gpt-4o-mini', provider: 'openai' }] }),
  });
  assert.notEqual(await exact.lookup(exact.plan(same, request, none)), undefined);
});
