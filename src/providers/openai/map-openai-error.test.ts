import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../types.ts';
import { mapOpenAIError, mapOpenAIStreamError, readOpenAIErrorFacts } from './map-openai-error.ts';

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

describe('upstream code, type and param', () => {
  it("keeps OpenAI's code, type and param as sent, beside the taxonomy kind", () => {
    const error = mapOpenAIError(
      {
        status: 400,
        headers: {},
        body: JSON.stringify({
          error: {
            message:
              "This model's maximum context length is 128000 tokens. However, your messages resulted in 130542 tokens.",
            type: 'invalid_request_error',
            param: 'messages',
            code: 'context_length_exceeded',
          },
        }),
      },
      deployment,
      'openai',
    );
    assert.equal(error.code, 'provider.context_length_exceeded');
    assert.equal(error.upstreamCode, 'context_length_exceeded');
    assert.equal(error.upstreamType, 'invalid_request_error');
    assert.equal(error.upstreamParam, 'messages');
  });

  it('tells a param sent as null from none, and leaves out a code sent as null', () => {
    const error = mapOpenAIError(
      { status: 429, headers: {}, body: envelope(null, 'requests', 'Rate limit reached') },
      deployment,
      'openai',
    );
    assert.equal(error.upstreamParam, null);
    assert.equal(error.upstreamCode, undefined);
    assert.equal(error.upstreamType, 'requests');
  });

  it('keeps a numeric code as its digits, a flat (vLLM) param, and the fields of an error inside a stream', () => {
    const vllm = mapOpenAIError(
      {
        status: 400,
        headers: {},
        body: JSON.stringify({
          object: 'error',
          message: 'bad',
          type: 'BadRequestError',
          param: 'n',
          code: 400,
        }),
      },
      deployment,
      'openai-compatible',
    );
    assert.equal(vllm.upstreamCode, '400');
    assert.equal(vllm.upstreamParam, 'n');
    const inStream = mapOpenAIStreamError(
      { error: { message: 'The server had an error', type: 'server_error', param: null, code: '500' } },
      deployment,
      'azure',
    );
    assert.equal(inStream.kind, 'server_error');
    assert.equal(inStream.upstreamCode, '500');
    assert.equal(inStream.upstreamType, 'server_error');
    assert.equal(inStream.upstreamParam, null);
  });

  it('keeps the provider message but not the key it echoes', () => {
    const error = mapOpenAIError(
      {
        status: 401,
        headers: {},
        body: envelope(
          'invalid_api_key',
          'invalid_request_error',
          'Incorrect API key provided: sk-proj-****1234. You can find your API key at https://platform.openai.com/account/api-keys.',
        ),
      },
      deployment,
      'openai',
    );
    assert.equal(
      error.message,
      'openai returned 401: Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.',
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
      upstreamCode: 'c',
      param: undefined,
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
