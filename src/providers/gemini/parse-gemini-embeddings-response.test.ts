import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import type { TransformContext } from '../types.ts';
import { parseGeminiEmbeddingsResponse } from './parse-gemini-embeddings-response.ts';

const context: TransformContext = {
  deployment: {
    id: 'gemini-emb',
    provider: 'gemini',
    model: 'gemini-embedding-001',
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  },
  created: 1_700_000_000,
  fallbackId: 'emb-fallback',
};

describe('parseGeminiEmbeddingsResponse', () => {
  it('converts embeddings to the OpenAI list shape in input order', () => {
    assert.deepEqual(
      parseGeminiEmbeddingsResponse(
        { embeddings: [{ values: [0.1, 0.2] }, { values: [0.3, 0.4] }] },
        context,
      ),
      {
        object: 'list',
        data: [
          { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
          { object: 'embedding', index: 1, embedding: [0.3, 0.4] },
        ],
        model: 'gemini-embedding-001',
        usage: { prompt_tokens: 0, total_tokens: 0 },
      },
    );
  });

  it('uses usageMetadata when Gemini sends it', () => {
    assert.deepEqual(
      parseGeminiEmbeddingsResponse(
        { embeddings: [{ values: [1] }], usageMetadata: { promptTokenCount: 4 } },
        context,
      ).usage,
      {
        prompt_tokens: 4,
        total_tokens: 4,
      },
    );
  });

  it('throws malformed_response for a body without numeric vectors', () => {
    for (const body of [{}, { embeddings: [{ values: ['a'] }] }, { embeddings: [{}] }]) {
      assert.throws(
        () => parseGeminiEmbeddingsResponse(body, context),
        (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'malformed_response',
      );
    }
  });
});
