import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyByStatus,
  classifyUpstreamError,
  createUpstreamError,
  isContentFiltered,
  isContextLengthExceeded,
  isQuotaExhausted,
} from './error-classification.ts';

describe('classifyByStatus', () => {
  it('maps the documented statuses', () => {
    const cases: Array<[number, string]> = [
      [400, 'invalid_request'],
      [401, 'authentication'],
      [402, 'quota_exhausted'],
      [403, 'permission_denied'],
      [404, 'not_found'],
      [408, 'timeout'],
      [409, 'invalid_request'],
      [413, 'invalid_request'],
      [429, 'rate_limited'],
      [500, 'server_error'],
      [502, 'server_error'],
      [503, 'overloaded'],
      [504, 'timeout'],
      [529, 'overloaded'],
      [599, 'server_error'],
    ];
    for (const [status, kind] of cases) assert.equal(classifyByStatus(status), kind, `status ${status}`);
  });
});

describe('isContextLengthExceeded', () => {
  const phrasings = [
    "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion).",
    'prompt is too long: 201234 tokens > 200000 maximum',
    'input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000',
    'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).',
    "The input (9000 tokens) is longer than the model's context length (8192 tokens).",
    'Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length',
    'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4097. Given: 4000 `inputs` tokens and 500 `max_new_tokens`',
    'the request exceeds the available context size, try increasing it',
  ];
  for (const message of phrasings) {
    it(`detects: ${message.slice(0, 50)}`, () => assert.equal(isContextLengthExceeded({ message }), true));
  }

  it('detects the OpenAI code and ignores unrelated messages', () => {
    assert.equal(isContextLengthExceeded({ codes: ['context_length_exceeded'] }), true);
    assert.equal(isContextLengthExceeded({ message: 'Invalid value for temperature' }), false);
  });
});

describe('isContentFiltered and isQuotaExhausted', () => {
  it('detects content filtering by code and message', () => {
    assert.equal(isContentFiltered({ codes: ['content_filter'] }), true);
    assert.equal(isContentFiltered({ codes: ['content_policy_violation'] }), true);
    assert.equal(isContentFiltered({ codes: ['ResponsibleAIPolicyViolation'] }), true);
    assert.equal(
      isContentFiltered({ message: 'Your request was rejected as a result of our safety system.' }),
      true,
    );
    assert.equal(isContentFiltered({ message: 'missing field messages' }), false);
  });

  it('detects quota exhaustion', () => {
    assert.equal(isQuotaExhausted({ status: 429, codes: ['insufficient_quota'] }), true);
    assert.equal(
      isQuotaExhausted({ status: 400, codes: ['invalid_request_error', 'enforced_spend_limit_reached'] }),
      true,
    );
    assert.equal(
      isQuotaExhausted({
        status: 400,
        message: 'You have reached your specified API usage limits (enforced_spend_limit_reached).',
      }),
      true,
    );
    assert.equal(
      isQuotaExhausted({
        status: 400,
        message: 'Your credit balance is too low to access the Anthropic API.',
      }),
      true,
    );
    assert.equal(isQuotaExhausted({ status: 402, codes: ['billing_error'] }), true);
    assert.equal(isQuotaExhausted({ status: 429, codes: ['rate_limit_exceeded'] }), false);
  });
});

describe('classifyUpstreamError', () => {
  it('treats insufficient_quota on a 429 as quota_exhausted, not rate_limited', () => {
    assert.equal(
      classifyUpstreamError({ status: 429, codes: ['insufficient_quota', 'insufficient_quota'] }),
      'quota_exhausted',
    );
    assert.equal(
      classifyUpstreamError({ status: 429, codes: ['rate_limit_exceeded', 'requests'] }),
      'rate_limited',
    );
  });

  it('refines 400s into context length and content filter', () => {
    assert.equal(
      classifyUpstreamError({ status: 400, codes: ['context_length_exceeded'] }),
      'context_length_exceeded',
    );
    assert.equal(
      classifyUpstreamError({ status: 400, message: 'prompt is too long: 300000 tokens > 200000 maximum' }),
      'context_length_exceeded',
    );
    assert.equal(
      classifyUpstreamError({ status: 400, codes: ['content_policy_violation'] }),
      'content_filtered',
    );
    assert.equal(classifyUpstreamError({ status: 400, message: 'bad temperature' }), 'invalid_request');
  });

  it('does not read a rate limit or server error as a content filter because of a word', () => {
    assert.equal(classifyUpstreamError({ status: 429, message: 'slow down for safety' }), 'rate_limited');
    assert.equal(classifyUpstreamError({ status: 500, message: 'safety service crashed' }), 'server_error');
  });

  it('lets overload codes override the status', () => {
    assert.equal(classifyUpstreamError({ status: 503, codes: ['server_is_overloaded'] }), 'overloaded');
    assert.equal(classifyUpstreamError({ status: 500, codes: ['overloaded_error'] }), 'overloaded');
  });

  it('classifies errors found inside 200 streams by code', () => {
    assert.equal(classifyUpstreamError({ status: 200, codes: ['rate_limit_exceeded'] }), 'rate_limited');
    assert.equal(classifyUpstreamError({ codes: ['overloaded_error'] }), 'overloaded');
    assert.equal(classifyUpstreamError({ codes: ['api_error'] }), 'server_error');
    assert.equal(classifyUpstreamError({ codes: ['something_new'] }), 'server_error');
  });
});

describe('createUpstreamError', () => {
  it('carries kind, status, retry-after, provider code and request id', () => {
    const error = createUpstreamError({
      provider: 'openai',
      status: 429,
      headers: { 'retry-after-ms': '250', 'x-request-id': 'req_1' },
      codes: ['rate_limit_exceeded'],
      message: 'Rate limit reached',
      providerCode: 'rate_limit_exceeded',
      deployment: 'dep',
    });
    assert.equal(error.kind, 'rate_limited');
    assert.equal(error.isRetryable, true);
    assert.equal(error.retryAfterMs, 250);
    assert.equal(error.upstreamStatus, 429);
    assert.equal(error.providerCode, 'rate_limit_exceeded');
    assert.equal(error.requestId, 'req_1');
    assert.equal(error.deployment, 'dep');
    assert.equal(error.message, 'openai returned 429: Rate limit reached');
  });

  it('makes quota exhaustion non-retryable even with a retry-after', () => {
    const error = createUpstreamError({
      provider: 'openai',
      status: 429,
      headers: { 'retry-after': '1' },
      codes: ['insufficient_quota'],
    });
    assert.equal(error.kind, 'quota_exhausted');
    assert.equal(error.isRetryable, false);
  });

  it('falls back to a body retry hint', () => {
    const error = createUpstreamError({ provider: 'gemini', status: 429, bodyRetryAfterMs: 34_400 });
    assert.equal(error.retryAfterMs, 34_400);
  });
});
