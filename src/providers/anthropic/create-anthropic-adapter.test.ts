import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicAdapter, createAnthropicAdapter } from './index.ts';

describe('anthropicAdapter', () => {
  it('is named anthropic and has no embeddings or images transforms', () => {
    assert.equal(anthropicAdapter.name, 'anthropic');
    assert.equal(anthropicAdapter.buildEmbeddingsRequest, undefined);
    assert.equal(anthropicAdapter.buildImagesRequest, undefined);
  });

  it('uses the injected clock for rate-limit reset times', () => {
    const adapter = createAnthropicAdapter({ now: () => Date.parse('2025-06-01T12:00:00Z') });
    const error = adapter.parseError(
      { status: 429, headers: { 'anthropic-ratelimit-requests-reset': '2025-06-01T12:00:09Z' }, body: '' },
      { id: 'd', provider: 'anthropic', model: 'claude', baseUrl: 'http://127.0.0.1' },
    );
    assert.equal(error.kind, 'rate_limited');
    assert.equal(error.retryAfterMs, 9000);
  });
});
