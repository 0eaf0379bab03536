import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createGeminiAdapter, geminiAdapter } from './index.ts';

describe('geminiAdapter', () => {
  it('is named gemini and supports chat and embeddings', () => {
    assert.equal(geminiAdapter.name, 'gemini');
    assert.equal(typeof geminiAdapter.buildEmbeddingsRequest, 'function');
    assert.equal(typeof geminiAdapter.parseEmbeddingsResponse, 'function');
    assert.equal(geminiAdapter.buildImagesRequest, undefined);
  });

  it('uses the injected clock for HTTP-date retry-after values', () => {
    const adapter = createGeminiAdapter({ now: () => Date.parse('Sun, 01 Jun 2025 12:00:00 GMT') });
    const error = adapter.parseError(
      { status: 503, headers: { 'retry-after': 'Sun, 01 Jun 2025 12:00:05 GMT' }, body: '' },
      { id: 'g', provider: 'gemini', model: 'gemini-2.5-flash', baseUrl: 'http://127.0.0.1' },
    );
    assert.equal(error.kind, 'overloaded');
    assert.equal(error.retryAfterMs, 5000);
  });
});
