import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../types.ts';
import { mapOpenAIError, readOpenAIErrorFacts } from './map-openai-error.ts';

const deployment: Deployment = {
  id: 'dep',
  provider: 'openai',
  model: 'gpt-4o-mini',
  baseUrl: 'https://api.openai.com/v1',
};
const envelope = (code: string | null, type: string | null, message = 'm') =>
  JSON.stringify({ error: { message, type, param: null, code } });

describe('mapOpenAIError', () => {
  it('maps insufficient_quota on a 429 to quota_exhausted (not retryable)', () => {
    const error = mapOpenAIError(
      {
        status: 429,
        headers: {},
        body: envelope('insufficient_quota', 'insufficient_quota', 'You exceeded your current quota'),
      },
      deployment,
      'openai',
    );
    assert.equal(error.kind, 'quota_exhausted');
    assert.equal(error.isRetryable, false);
    assert.equal(error.providerCode, 'insufficient_quota');
  });

  it('maps a rate limit with its retry hint and request id', () => {
    const error = mapOpenAIError(
      {
        status: 429,
        headers: { 'retry-after-ms': '120', 'x-request-id': 'req_9' },
        body: envelope('rate_limit_exceeded', 'requests', 'Rate limit reached'),
      },
      deployment,
      'openai',
    );
    assert.equal(error.kind, 'rate_limited');
    assert.equal(error.retryAfterMs, 120);
    assert.equal(error.requestId, 'req_9');
    assert.equal(error.deployment, 'dep');
    assert.match(error.message, /openai returned 429: Rate limit reached/);
  });

  it('maps context length, content filter and overload codes', () => {
    assert.equal(
      mapOpenAIError(
        { status: 400, headers: {}, body: envelope('context_length_exceeded', 'invalid_request_error') },
        deployment,
        'openai',
      ).kind,
      'context_length_exceeded',
    );
    assert.equal(
      mapOpenAIError(
        { status: 400, headers: {}, body: envelope('content_policy_violation', 'invalid_request_error') },
        deployment,
        'openai',
      ).kind,
      'content_filtered',
    );
    assert.equal(
      mapOpenAIError(
        { status: 400, headers: {}, body: envelope('content_filter', null) },
        deployment,
        'azure',
      ).kind,
      'content_filtered',
    );
    assert.equal(
      mapOpenAIError(
        { status: 503, headers: {}, body: envelope('server_is_overloaded', 'server_error') },
        deployment,
        'openai',
      ).kind,
      'overloaded',
    );
  });

  it('uses the status when the body is not JSON, quoting the body', () => {
    const error = mapOpenAIError(
      { status: 502, headers: {}, body: '<html>Bad Gateway</html>' },
      deployment,
      'openai',
    );
    assert.equal(error.kind, 'server_error');
    assert.match(error.message, /Bad Gateway/);
    assert.equal(
      mapOpenAIError({ status: 401, headers: {}, body: '' }, deployment, 'openai').kind,
      'authentication',
    );
  });
});

describe('readOpenAIErrorFacts', () => {
  it('reads the envelope, Ollama strings, vLLM flat objects, Mistral object messages and FastAPI detail', () => {
    assert.deepEqual(readOpenAIErrorFacts({ error: { message: 'x', type: 't', code: 'c' } }), {
      message: 'x',
      code: 'c',
      type: 't',
      statusFromCode: undefined,
    });
    assert.equal(readOpenAIErrorFacts({ error: 'model not found' }).message, 'model not found');
    const vllm = readOpenAIErrorFacts({
      object: 'error',
      message: 'bad',
      type: 'BadRequestError',
      code: 400,
    });
    assert.equal(vllm.message, 'bad');
    assert.equal(vllm.type, 'BadRequestError');
    assert.equal(vllm.code, undefined);
    assert.equal(vllm.statusFromCode, 400);
    const mistral = readOpenAIErrorFacts({
      object: 'error',
      message: { detail: [{ type: 'extra_forbidden', loc: ['body', 'stream_options'] }] },
      type: 'invalid_request_error',
      code: null,
    });
    assert.match(mistral.message ?? '', /extra_forbidden/);
    assert.equal(readOpenAIErrorFacts({ detail: 'Not Found' }).message, 'Not Found');
    assert.equal(readOpenAIErrorFacts({ error: { code: '429', message: 'slow down' } }).statusFromCode, 429);
    assert.equal(readOpenAIErrorFacts('nope').message, undefined);
  });
});
