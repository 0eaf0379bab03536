import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCodes } from './error-codes.ts';
import { PipewrightError } from './errors.ts';
import { ProviderError, providerErrorKinds } from './provider-error.ts';

test('docs/errors.md lists every error code with its HTTP status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, entry] of Object.entries(errorCodes)) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    assert.ok(row !== undefined, `${code} is missing from docs/errors.md`);
    assert.ok(row.includes(`| ${entry.status} |`), `${code}: docs give another status than ${entry.status}`);
  }
});

test('every provider error kind has a code', () => {
  for (const kind of providerErrorKinds) assert.ok(`provider.${kind}` in errorCodes, kind);
});

test('quota exhausted is never retryable even though it is a 429', () => {
  const error = new ProviderError({
    kind: 'quota_exhausted',
    message: 'insufficient_quota',
    provider: 'openai',
    upstreamStatus: 429,
  });
  assert.equal(error.isRetryable, false);
  assert.equal(error.status, 429);
  assert.equal(
    new ProviderError({ kind: 'rate_limited', message: 'slow down', provider: 'openai' }).isRetryable,
    true,
  );
});

test('isInstance recognises errors across copies and keeps the cause', () => {
  const cause = new Error('socket hang up');
  const error = new ProviderError({ kind: 'connection', message: 'reset', provider: 'openai', cause });
  assert.ok(PipewrightError.isInstance(error));
  assert.ok(ProviderError.isProviderError(error));
  assert.equal(error.cause, cause);
  assert.ok(!PipewrightError.isInstance(cause));
  assert.equal(error.withDeployment('d1').deployment, 'd1');
});
