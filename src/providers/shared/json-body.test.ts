import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import { parseJsonBody, tryParseJson } from './json-body.ts';

describe('parseJsonBody', () => {
  it('parses valid JSON', () => {
    assert.deepEqual(parseJsonBody('{"a":[1,2]}', { provider: 'openai' }), { a: [1, 2] });
  });

  it('throws malformed_response naming the provider, deployment and the start of the text', () => {
    assert.throws(
      () =>
        parseJsonBody('<html>bad gateway</html>', {
          provider: 'openai',
          deployment: 'dep-1',
          upstreamStatus: 200,
        }),
      (error: unknown) => {
        assert.ok(ProviderError.isProviderError(error));
        assert.equal(error.kind, 'malformed_response');
        assert.equal(error.code, 'provider.malformed_response');
        assert.equal(error.provider, 'openai');
        assert.equal(error.deployment, 'dep-1');
        assert.equal(error.upstreamStatus, 200);
        assert.match(error.message, /openai/);
        assert.match(error.message, /<html>bad gateway/);
        assert.equal(error.isRetryable, true);
        return true;
      },
    );
  });

  it('reports an empty body clearly', () => {
    assert.throws(
      () => parseJsonBody('', { provider: 'gemini' }),
      /gemini returned a malformed response: response body is not valid JSON: \(empty\)/,
    );
  });
});

describe('tryParseJson', () => {
  it('returns undefined for non-JSON and empty text', () => {
    assert.equal(tryParseJson(''), undefined);
    assert.equal(tryParseJson('<html>'), undefined);
    assert.deepEqual(tryParseJson('{"error":{"message":"x"}}'), { error: { message: 'x' } });
  });
});
