import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError, ProviderError, type ProviderErrorOptions } from '../core/index.ts';
import { shouldClientRetry, toErrorResponse } from './error-response.ts';

const attempt = (errorCode: string, durationMs = 5) => ({
  deployment: 'd',
  provider: 'openai',
  modelGroup: 'g',
  errorCode,
  errorKind: null,
  durationMs,
  retry: false,
});

const providerError = (
  kind: ProviderErrorOptions['kind'],
  attempts: unknown[] = [],
  extra: Partial<ProviderErrorOptions> = {},
) => new ProviderError({ kind, message: kind, provider: 'openai', details: { attempts }, ...extra });

test('x-should-retry is false for what retrying cannot fix', () => {
  for (const error of [
    providerError('quota_exhausted', [attempt('provider.quota_exhausted')]),
    providerError('context_length_exceeded', [attempt('provider.context_length_exceeded')]),
    providerError('invalid_request'),
    providerError('authentication'),
    providerError('permission_denied'),
    new PipewrightError({ code: 'request.invalid', message: 'x', param: 'model' }),
    new PipewrightError({ code: 'workflow.run_conflict', message: 'x' }),
    new PipewrightError({ code: 'gateway.internal', message: 'x' }),
  ]) {
    assert.equal(shouldClientRetry(error), false, error.code);
    assert.equal(toErrorResponse(error).headers['x-should-retry'], 'false', error.code);
  }
});

test('x-should-retry is false once the gateway retried or fell back, true when it tried once', () => {
  const retried = providerError('server_error', [
    attempt('provider.server_error'),
    attempt('provider.server_error'),
  ]);
  assert.equal(toErrorResponse(retried).headers['x-should-retry'], 'false');
  const once = providerError('server_error', [attempt('provider.server_error')]);
  assert.equal(toErrorResponse(once).headers['x-should-retry'], 'true');
  // A deadline spent on an upstream is not retried; one spent waiting for our own limits may be.
  const deadline = (attempts: unknown[]) =>
    new PipewrightError({ code: 'gateway.deadline_exceeded', message: 'late', details: { attempts } });
  assert.equal(shouldClientRetry(deadline([attempt('gateway.deadline_exceeded')])), false);
  assert.equal(shouldClientRetry(deadline([attempt('gateway.rate_limited', 0)])), true);
  // Skipped deployments (open breaker, full, over our limit) never reached an upstream.
  const skippedThenOnce = providerError('rate_limited', [
    attempt('gateway.circuit_open', 0),
    attempt('provider.rate_limited'),
  ]);
  assert.equal(toErrorResponse(skippedThenOnce).headers['x-should-retry'], 'true');
  const open = new PipewrightError({
    code: 'gateway.circuit_open',
    message: 'open',
    details: { retryAfterMs: 2_000, attempts: [attempt('gateway.circuit_open', 0)] },
  });
  const response = toErrorResponse(open);
  assert.equal(response.headers['x-should-retry'], 'true');
  assert.equal(response.headers['retry-after'], '2');
  assert.equal(
    toErrorResponse(new PipewrightError({ code: 'gateway.shutting_down', message: 'x' })).headers[
      'x-should-retry'
    ],
    'true',
  );
});

test("the envelope carries the upstream's code and param, and ours beside them", () => {
  const error = providerError('context_length_exceeded', [attempt('provider.context_length_exceeded')], {
    upstreamCode: 'context_length_exceeded',
    upstreamParam: 'messages',
  });
  const response = toErrorResponse(error);
  assert.equal(response.status, 400);
  assert.equal(response.body.error.code, 'context_length_exceeded');
  assert.equal(response.body.error.param, 'messages');
  assert.equal(response.body.error.pipewright_code, 'provider.context_length_exceeded');
  assert.equal(response.headers['x-pipewright-error-code'], 'provider.context_length_exceeded');
  // Without an upstream code, the code is ours.
  const plain = toErrorResponse(providerError('server_error')).body.error;
  assert.equal(plain.code, 'provider.server_error');
  assert.equal(plain.pipewright_code, 'provider.server_error');
});

test("the framework's own errors become ours, naming the part of the request at fault", () => {
  const fastifyError = (code: string, statusCode: number, message = 'x') =>
    Object.assign(new Error(message), { code, statusCode });
  const cases: Array<[Error, number, string, string]> = [
    [
      fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415),
      415,
      'request.unsupported_media_type',
      'content-type',
    ],
    [fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 413, 'request.too_large', 'body'],
    [fastifyError('FST_ERR_CTP_EMPTY_JSON_BODY', 400), 400, 'request.invalid_json', 'body'],
    [fastifyError('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400), 400, 'request.invalid', 'content-length'],
    [fastifyError('FST_ERR_BAD_URL', 400), 400, 'request.invalid', 'url'],
    [fastifyError('FST_ERR_MAX_PARAM_LENGTH', 414), 414, 'request.invalid', 'url'],
  ];
  for (const [error, status, code, param] of cases) {
    const response = toErrorResponse(error);
    assert.equal(response.status, status, code);
    assert.equal(response.body.error.code, code);
    assert.equal(response.body.error.param, param);
  }
});
