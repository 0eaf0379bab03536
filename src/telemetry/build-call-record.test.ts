import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheStatuses, isServedFromCache } from '../spec/index.ts';
import { buildCallRecord, type CallFacts } from './build-call-record.ts';

const facts: CallFacts = {
  operation: 'chat',
  streamed: false,
  startedAt: 1_700_000_000_000,
  tenantId: 'acme',
  requestId: 'req_1',
  traceId: 'a'.repeat(32),
  stepType: null,
  modelGroup: 'fast',
  provider: 'openai',
  model: 'gpt-4o-mini',
  deployment: 'openai-mini',
  simulated: false,
  usage: { inputTokens: 12, outputTokens: 3, cachedInputTokens: 2, cacheWriteTokens: 0, reasoningTokens: 1 },
  latencyMs: 420,
  timeToFirstTokenMs: 80,
  costUsd: 0.0002,
  cacheStatus: 'miss',
  savedCostUsd: null,
  savedLatencyMs: null,
  errorCode: null,
};

test('an upstream call keeps its deployment, tokens, cost and timing', () => {
  const record = buildCallRecord(facts);
  assert.match(record.id, /^call_/);
  assert.equal(record.time, facts.startedAt);
  assert.deepEqual(
    [record.provider, record.deployment, record.inputTokens, record.outputTokens, record.reasoningTokens],
    ['openai', 'openai-mini', 12, 3, 1],
  );
  assert.equal(record.costUsd, 0.0002);
  assert.equal(record.timeToFirstTokenMs, 80);
  assert.equal(record.outcome, 'success');
});

test('a call a cache or a shared flight answered made no upstream call: no provider, tokens or cost; its savings stay', () => {
  for (const cacheStatus of cacheStatuses.filter(isServedFromCache)) {
    const record = buildCallRecord({ ...facts, cacheStatus, savedCostUsd: 0.0002, savedLatencyMs: 400 });
    assert.equal(record.provider, null, cacheStatus);
    assert.equal(record.deployment, null, cacheStatus);
    assert.equal(record.inputTokens + record.outputTokens + record.cachedInputTokens, 0, cacheStatus);
    assert.equal(record.costUsd, 0, cacheStatus);
    assert.equal(record.timeToFirstTokenMs, null, cacheStatus);
    assert.equal(record.model, 'gpt-4o-mini', cacheStatus);
    assert.equal(record.savedCostUsd, 0.0002, cacheStatus);
  }
  assert.deepEqual(cacheStatuses.filter(isServedFromCache), ['hit', 'semantic-hit', 'shared']);
});

test('a failed call is an error record with its code', () => {
  const record = buildCallRecord({ ...facts, errorCode: 'provider.overloaded', costUsd: null });
  assert.equal(record.outcome, 'error');
  assert.equal(record.errorCode, 'provider.overloaded');
  assert.equal(record.costUsd, null);
});
