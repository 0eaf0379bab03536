import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import type { Deployment } from '../types.ts';
import { createAnthropicStreamTransformer } from './create-anthropic-stream-transformer.ts';
import { parseAnthropicError, parseAnthropicRateLimitResetMs } from './parse-anthropic-error.ts';
import { parseAnthropicResponse } from './parse-anthropic-response.ts';

const deployment: Deployment = {
  id: 'claude-eu',
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  baseUrl: 'https://api.anthropic.com/v1',
};
const now = Date.parse('2025-06-01T12:00:00Z');
const envelope = (type: string, message: string, details?: Record<string, unknown>) =>
  JSON.stringify({
    type: 'error',
    error: { type, message, ...(details === undefined ? {} : { details }) },
    request_id: 'req_body',
  });
const parse = (status: number, body: string, headers: Record<string, string> = {}) =>
  parseAnthropicError({ status, headers, body }, deployment, () => now);

describe('parseAnthropicError', () => {
  it('maps each error type to the taxonomy', () => {
    const cases: Array<[number, string, string]> = [
      [400, 'invalid_request_error', 'invalid_request'],
      [401, 'authentication_error', 'authentication'],
      [402, 'billing_error', 'quota_exhausted'],
      [403, 'permission_error', 'permission_denied'],
      [404, 'not_found_error', 'not_found'],
      [413, 'request_too_large', 'invalid_request'],
      [429, 'rate_limit_error', 'rate_limited'],
      [500, 'api_error', 'server_error'],
      [529, 'overloaded_error', 'overloaded'],
    ];
    for (const [status, type, kind] of cases) {
      const error = parse(status, envelope(type, 'something'));
      assert.equal(error.kind, kind, type);
      assert.equal(error.upstreamStatus, status);
      assert.equal(error.provider, 'anthropic');
      assert.equal(error.deployment, 'claude-eu');
      assert.equal(error.providerCode, type);
    }
  });

  it('recognises an over-long prompt as context_length_exceeded', () => {
    const error = parse(
      400,
      envelope('invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'),
    );
    assert.equal(error.kind, 'context_length_exceeded');
    assert.equal(error.isRetryable, false);
  });

  it('recognises spend limits and empty credit as quota_exhausted, not a retryable rate limit', () => {
    const spend = parse(
      429,
      envelope('rate_limit_error', 'You have reached your API usage limits.', {
        error_code: 'enforced_spend_limit_reached',
      }),
    );
    assert.equal(spend.kind, 'quota_exhausted');
    assert.equal(spend.providerCode, 'enforced_spend_limit_reached');
    assert.equal(spend.isRetryable, false);
    assert.equal(
      parse(
        400,
        envelope('invalid_request_error', 'Your credit balance is too low to access the Anthropic API.'),
      ).kind,
      'quota_exhausted',
    );
    assert.equal(parse(402, 'Payment Required').kind, 'quota_exhausted');
  });

  it('maps by status when the body is not JSON, and says so in the message', () => {
    const error = parse(529, '<html>Overloaded</html>');
    assert.equal(error.kind, 'overloaded');
    assert.match(error.message, /anthropic returned 529: "<html>Overloaded<\/html>"/);
    assert.equal(parse(503, '').kind, 'overloaded');
    assert.equal(parse(502, '').kind, 'server_error');
    assert.equal(parse(504, '').kind, 'timeout');
  });

  it('takes retry-after from the header and the request id from request-id', () => {
    const error = parse(429, envelope('rate_limit_error', 'Too many requests'), {
      'retry-after': '7',
      'request-id': 'req_header',
    });
    assert.equal(error.retryAfterMs, 7000);
    assert.equal(error.requestId, 'req_header');
    assert.equal(parse(429, envelope('rate_limit_error', 'x')).requestId, 'req_body');
  });

  it('derives retry-after from the rate-limit reset timestamps when the header is absent', () => {
    const error = parse(429, envelope('rate_limit_error', 'Too many tokens'), {
      'anthropic-ratelimit-requests-remaining': '40',
      'anthropic-ratelimit-requests-reset': '2025-06-01T12:00:02Z',
      'anthropic-ratelimit-input-tokens-remaining': '0',
      'anthropic-ratelimit-input-tokens-reset': '2025-06-01T12:00:20Z',
    });
    assert.equal(error.retryAfterMs, 20_000);
  });
});

describe('parseAnthropicRateLimitResetMs', () => {
  it('waits for the earliest reset when no bucket says it is empty', () => {
    assert.equal(
      parseAnthropicRateLimitResetMs(
        {
          'anthropic-ratelimit-tokens-reset': '2025-06-01T12:00:30Z',
          'anthropic-ratelimit-requests-reset': '2025-06-01T12:00:05Z',
        },
        now,
      ),
      5000,
    );
  });

  it('ignores values that are not RFC 3339 timestamps and never returns a negative wait', () => {
    assert.equal(
      parseAnthropicRateLimitResetMs({ 'anthropic-ratelimit-tokens-reset': 'soon' }, now),
      undefined,
    );
    assert.equal(
      parseAnthropicRateLimitResetMs({ 'anthropic-ratelimit-tokens-reset': '2025-06-01T11:59:00Z' }, now),
      0,
    );
    assert.equal(parseAnthropicRateLimitResetMs({}, now), undefined);
  });

  it('builds the same error from an HTTP error body, a 200 body and a stream error event', () => {
    const payload = {
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message: 'You have reached your specified API usage limits.',
        details: { error_code: 'enforced_spend_limit_reached' },
      },
      request_id: 'req_body',
    };
    const context = { deployment, created: 1_700_000_000, fallbackId: 'chatcmpl-x' };
    const caught = (run: () => unknown): ProviderError => {
      try {
        run();
      } catch (error) {
        assert.ok(ProviderError.isProviderError(error));
        return error;
      }
      assert.fail('expected a ProviderError');
    };
    const http = parse(429, JSON.stringify(payload));
    const body = caught(() => parseAnthropicResponse(payload, context));
    const stream = caught(() =>
      createAnthropicStreamTransformer(context).push({ event: 'error', data: JSON.stringify(payload) }),
    );
    for (const error of [http, body, stream]) {
      assert.equal(error.kind, 'quota_exhausted');
      assert.equal(error.upstreamType, 'rate_limit_error');
      assert.equal(error.upstreamCode, 'enforced_spend_limit_reached');
      assert.equal(error.providerCode, 'enforced_spend_limit_reached');
      assert.equal(error.requestId, 'req_body');
      assert.equal(error.deployment, 'claude-eu');
      assert.match(error.message, /You have reached your specified API usage limits\.$/);
    }
    assert.equal(http.upstreamStatus, 429);
    assert.match(body.message, /^anthropic error in a 200 response: /);
    assert.match(stream.message, /^anthropic stream error: /);
  });

  it('keeps the error type as sent and reads a body with fields of the wrong type by what it can', () => {
    const error = parse(
      400,
      envelope('invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'),
    );
    assert.equal(error.kind, 'context_length_exceeded');
    assert.equal(error.upstreamType, 'invalid_request_error');
    assert.equal(error.upstreamCode, undefined);
    assert.equal(error.upstreamParam, undefined);
    const odd = parse(
      529,
      JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 42 } }),
    );
    assert.equal(odd.kind, 'overloaded');
    assert.equal(odd.upstreamType, 'overloaded_error');
  });
});
