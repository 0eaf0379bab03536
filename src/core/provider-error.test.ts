import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProviderError } from './provider-error.ts';

describe('ProviderError', () => {
  it('keeps the upstream code, type and param as sent, through copies', () => {
    const error = new ProviderError({
      kind: 'context_length_exceeded',
      message: "This model's maximum context length is 128000 tokens.",
      provider: 'openai',
      upstreamCode: 'context_length_exceeded',
      upstreamType: 'invalid_request_error',
      upstreamParam: 'messages',
    });
    assert.equal(error.code, 'provider.context_length_exceeded');
    const copy = error.withDeployment('gpt4o-eu');
    assert.equal(copy.upstreamCode, 'context_length_exceeded');
    assert.equal(copy.upstreamType, 'invalid_request_error');
    assert.equal(copy.upstreamParam, 'messages');
    assert.equal(copy.deployment, 'gpt4o-eu');
  });

  it('keeps a param the upstream sent as null apart from one it did not send', () => {
    const sentNull = new ProviderError({
      kind: 'rate_limited',
      message: 'slow',
      provider: 'openai',
      upstreamParam: null,
    });
    assert.equal(sentNull.upstreamParam, null);
    assert.equal(new ProviderError(sentNull.toOptions()).upstreamParam, null);
    const absent = new ProviderError({ kind: 'rate_limited', message: 'slow', provider: 'openai' });
    assert.equal(absent.upstreamParam, undefined);
    assert.equal('upstreamParam' in absent.toOptions(), false);
  });

  it('never carries a key in its message, whoever builds it', () => {
    const error = new ProviderError({
      kind: 'authentication',
      message:
        'openai returned 401: Incorrect API key provided: sk-proj-****1234. You can find your API key at https://platform.openai.com/account/api-keys.',
      provider: 'openai',
    });
    assert.equal(
      error.message,
      'openai returned 401: Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.',
    );
    assert.doesNotMatch(error.withDeployment('other').message, /1234/);
  });
});
