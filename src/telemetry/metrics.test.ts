import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallRecord } from './call-record.ts';
import { createMetrics } from './metrics.ts';

function call(fields: Partial<CallRecord> = {}): CallRecord {
  return {
    id: 'call_1',
    time: 1_700_000_000_000,
    tenantId: 'acme',
    requestId: 'req_1',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    operation: 'chat',
    stepType: null,
    modelGroup: 'fast',
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    deployment: 'gemini-flash',
    streamed: false,
    inputTokens: 300,
    outputTokens: 20,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    latencyMs: 250,
    timeToFirstTokenMs: null,
    costUsd: 0.00014,
    cacheStatus: 'miss',
    outcome: 'success',
    errorCode: null,
    simulated: false,
    ...fields,
  };
}

/** The value of one sample line, found by metric name and a set of label pairs. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const genAi = {
  gen_ai_operation_name: 'chat',
  gen_ai_provider_name: 'gcp.gemini',
  gen_ai_request_model: 'fast',
  gen_ai_response_model: 'gemini-2.5-flash',
};

describe('createMetrics', () => {
  test('a call feeds the GenAI token and duration histograms with the convention buckets', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeCall(call());
    const text = await metrics.render();
    assert.equal(
      sample(text, 'gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'input' }),
      300,
    );
    assert.equal(
      sample(text, 'gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'output' }),
      20,
    );
    // 300 tokens fall in the 1024 bucket, not the 256 one.
    assert.equal(
      sample(text, 'gen_ai_client_token_usage_bucket', { gen_ai_token_type: 'input', le: '256' }),
      0,
    );
    assert.equal(
      sample(text, 'gen_ai_client_token_usage_bucket', { gen_ai_token_type: 'input', le: '1024' }),
      1,
    );
    assert.equal(
      sample(text, 'gen_ai_client_token_usage_bucket', { gen_ai_token_type: 'input', le: '67108864' }),
      1,
    );
    assert.equal(sample(text, 'gen_ai_client_operation_duration_seconds_sum', genAi), 0.25);
    assert.equal(sample(text, 'gen_ai_client_operation_duration_seconds_bucket', { le: '0.16' }), 0);
    assert.equal(sample(text, 'gen_ai_client_operation_duration_seconds_bucket', { le: '0.32' }), 1);
    assert.ok(!text.includes('error_type='), 'no error_type on success');
    // Not streamed: no time-to-first-chunk observation.
    assert.equal(sample(text, 'gen_ai_client_operation_time_to_first_chunk_seconds_count'), undefined);
  });

  test('calls and cost are counted per tenant and model group', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeCall(call({ costUsd: 0.25 }));
    metrics.observeCall(call({ costUsd: 0.5 }));
    metrics.observeCall(call({ tenantId: 'globex', costUsd: null }));
    const text = await metrics.render();
    const acme = {
      tenant: 'acme',
      model_group: 'fast',
      deployment: 'gemini-flash',
      outcome: 'success',
      cache_status: 'miss',
    };
    assert.equal(sample(text, 'pipewright_calls_total', acme), 2);
    assert.equal(sample(text, 'pipewright_calls_total', { ...acme, tenant: 'globex' }), 1);
    assert.equal(sample(text, 'pipewright_cost_usd_total', { tenant: 'acme', model_group: 'fast' }), 0.75);
    assert.equal(sample(text, 'pipewright_cost_usd_total', { tenant: 'globex' }), undefined);
  });

  test('a failed call carries error_type; a streamed call records time to first chunk', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeCall(
      call({
        outcome: 'error',
        errorCode: 'provider.rate_limited',
        inputTokens: 0,
        outputTokens: 0,
        costUsd: null,
      }),
    );
    metrics.observeCall(call({ streamed: true, timeToFirstTokenMs: 120 }));
    const text = await metrics.render();
    assert.equal(
      sample(text, 'gen_ai_client_operation_duration_seconds_count', { error_type: 'provider.rate_limited' }),
      1,
    );
    assert.equal(sample(text, 'gen_ai_client_operation_time_to_first_chunk_seconds_sum', genAi), 0.12);
    assert.equal(sample(text, 'pipewright_calls_total', { outcome: 'error' }), 1);
    // The failed call spent no tokens and is not counted in the token histogram.
    assert.equal(sample(text, 'gen_ai_client_token_usage_count', { gen_ai_token_type: 'input' }), 1);
  });

  test('a cache hit counts as a call but not as an upstream GenAI operation', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeCall(
      call({
        provider: null,
        model: null,
        deployment: null,
        cacheStatus: 'hit',
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        latencyMs: 2,
      }),
    );
    const text = await metrics.render();
    assert.equal(sample(text, 'pipewright_calls_total', { cache_status: 'hit', deployment: '' }), 1);
    assert.equal(sample(text, 'gen_ai_client_operation_duration_seconds_count'), undefined);
  });

  test('HTTP requests count by route and status, errors by code, overhead in seconds', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeHttpRequest({
      route: '/v1/chat/completions',
      status: 200,
      durationMs: 400,
      overheadMs: 0.4,
    });
    metrics.observeHttpRequest({
      route: '/v1/chat/completions',
      status: 429,
      errorCode: 'provider.rate_limited',
      durationMs: 30,
    });
    metrics.observeHttpRequest({
      route: '/v1/chat/completions',
      status: 200,
      durationMs: 10,
      errorCode: undefined,
      overheadMs: undefined,
    });
    const text = await metrics.render();
    assert.equal(
      sample(text, 'pipewright_requests_total', { route: '/v1/chat/completions', status: '200' }),
      2,
    );
    assert.equal(sample(text, 'pipewright_requests_total', { status: '429' }), 1);
    assert.equal(sample(text, 'pipewright_request_errors_total', { code: 'provider.rate_limited' }), 1);
    assert.equal(sample(text, 'pipewright_gateway_overhead_seconds_count'), 1);
    assert.equal(sample(text, 'pipewright_gateway_overhead_seconds_sum'), 0.0004);
  });

  test('each instance has its own registry, with process metrics by default', async () => {
    const first = createMetrics();
    const second = createMetrics({ defaultMetrics: false });
    first.observeHttpRequest({ route: '/health', status: 200, durationMs: 1 });
    assert.equal(sample(await first.render(), 'pipewright_requests_total', { route: '/health' }), 1);
    assert.equal(sample(await second.render(), 'pipewright_requests_total', { route: '/health' }), undefined);
    assert.match(await first.render(), /^process_cpu_user_seconds_total /m);
    assert.doesNotMatch(await second.render(), /process_cpu_user_seconds_total/);
    assert.match(first.contentType, /^text\/plain/);
  });
});
