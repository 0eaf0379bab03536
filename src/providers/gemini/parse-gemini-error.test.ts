import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../types.ts';
import { parseGeminiError, readGeminiErrorInfo } from './parse-gemini-error.ts';

const deployment: Deployment = {
  id: 'gemini-eu',
  provider: 'gemini',
  model: 'gemini-2.5-flash',
  baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
};
const googleError = (code: number, status: string, message: string, details: unknown[] = []) =>
  JSON.stringify({ error: { code, message, status, details } });
const parse = (status: number, body: string, headers: Record<string, string> = {}) =>
  parseGeminiError({ status, headers, body }, deployment);
const retryInfo = (delay: string) => ({
  '@type': 'type.googleapis.com/google.rpc.RetryInfo',
  retryDelay: delay,
});
const quotaFailure = (...quotaIds: string[]) => ({
  '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
  violations: quotaIds.map((quotaId) => ({ quotaId })),
});

describe('parseGeminiError', () => {
  it('maps each canonical status to the taxonomy', () => {
    const cases: Array<[number, string, string]> = [
      [400, 'INVALID_ARGUMENT', 'invalid_request'],
      [400, 'FAILED_PRECONDITION', 'invalid_request'],
      [401, 'UNAUTHENTICATED', 'authentication'],
      [403, 'PERMISSION_DENIED', 'permission_denied'],
      [404, 'NOT_FOUND', 'not_found'],
      [500, 'INTERNAL', 'server_error'],
      [503, 'UNAVAILABLE', 'overloaded'],
      [504, 'DEADLINE_EXCEEDED', 'timeout'],
    ];
    for (const [code, status, kind] of cases) {
      const error = parse(code, googleError(code, status, 'something'));
      assert.equal(error.kind, kind, status);
      assert.equal(error.upstreamStatus, code);
      assert.equal(error.providerCode, status);
      assert.equal(error.provider, 'gemini');
    }
  });

  it('maps a per-minute RESOURCE_EXHAUSTED to rate_limited with the RetryInfo delay', () => {
    const error = parse(
      429,
      googleError(
        429,
        'RESOURCE_EXHAUSTED',
        'You exceeded your current quota, please check your plan and billing details.',
        [quotaFailure('GenerateRequestsPerMinutePerProjectPerModel-FreeTier'), retryInfo('34.4s')],
      ),
    );
    assert.equal(error.kind, 'rate_limited');
    assert.equal(error.retryAfterMs, 34_400);
    assert.equal(error.isRetryable, true);
  });

  it('maps an exhausted daily quota, or a zero limit, to quota_exhausted', () => {
    const daily = parse(
      429,
      googleError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', [
        quotaFailure(
          'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
        ),
        retryInfo('20s'),
      ]),
    );
    assert.equal(daily.kind, 'quota_exhausted');
    assert.equal(daily.isRetryable, false);
    const zero = parse(
      429,
      googleError(
        429,
        'RESOURCE_EXHAUSTED',
        'Quota exceeded for metric: generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro\nPlease retry in 11.1s.',
      ),
    );
    assert.equal(zero.kind, 'quota_exhausted');
    assert.equal(zero.retryAfterMs, 11_100);
  });

  it('recognises an invalid API key sent as 400 INVALID_ARGUMENT', () => {
    const error = parse(
      400,
      googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
        },
      ]),
    );
    assert.equal(error.kind, 'authentication');
    assert.equal(error.providerCode, 'API_KEY_INVALID');
  });

  it('recognises an input over the context window', () => {
    const error = parse(
      400,
      googleError(
        400,
        'INVALID_ARGUMENT',
        'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).',
      ),
    );
    assert.equal(error.kind, 'context_length_exceeded');
  });

  it('maps by HTTP status when the body is not a Google error, and reads an array-wrapped error', () => {
    assert.equal(parse(503, 'upstream connect error').kind, 'overloaded');
    assert.equal(parse(502, '').kind, 'server_error');
    assert.equal(
      parse(429, `[${googleError(429, 'RESOURCE_EXHAUSTED', 'slow down', [retryInfo('2s')])}]`).retryAfterMs,
      2000,
    );
  });
});

describe('readGeminiErrorInfo', () => {
  it('reads the code, status, message, reason, quota ids and retry delay', () => {
    assert.deepEqual(
      readGeminiErrorInfo({
        error: {
          code: 429,
          status: 'RESOURCE_EXHAUSTED',
          message: 'Quota exceeded',
          details: [
            quotaFailure('PerMinute'),
            retryInfo('1s'),
            { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RATE_LIMIT_EXCEEDED' },
          ],
        },
      }),
      {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'Quota exceeded',
        quotaIds: ['PerMinute'],
        retryDelayMs: 1000,
        reason: 'RATE_LIMIT_EXCEEDED',
      },
    );
  });

  it('keeps the status as sent as the upstream type, and reads what it can of an odd body', () => {
    const error = parse(
      400,
      googleError(
        400,
        'INVALID_ARGUMENT',
        'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).',
      ),
    );
    assert.equal(error.kind, 'context_length_exceeded');
    assert.equal(error.upstreamType, 'INVALID_ARGUMENT');
    assert.equal(error.upstreamCode, undefined, 'a gRPC status is not an OpenAI-style code');
    const odd = parse(
      429,
      JSON.stringify({
        error: { code: '429', status: 'RESOURCE_EXHAUSTED', message: 7, details: [null, retryInfo('2s')] },
      }),
    );
    assert.equal(odd.kind, 'rate_limited');
    assert.equal(odd.upstreamType, 'RESOURCE_EXHAUSTED');
    assert.equal(odd.retryAfterMs, 2000);
  });
});
