import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TransformContext } from '../types.ts';
import { parseOpenAIEmbeddingsResponse } from './parse-openai-embeddings-response.ts';

const context: TransformContext = {
  deployment: { id: 'd', provider: 'openai', model: 'text-embedding-3-small', baseUrl: 'x' },
  created: 1,
  fallbackId: 'emb',
};

describe('parseOpenAIEmbeddingsResponse', () => {
  it('sorts by index and fills model and usage', () => {
    const response = parseOpenAIEmbeddingsResponse(
      {
        object: 'list',
        data: [
          { object: 'embedding', index: 1, embedding: [0.3] },
          { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
        ],
      },
      context,
      'openai',
    );
    assert.deepEqual(response, {
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
        { object: 'embedding', index: 1, embedding: [0.3] },
      ],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  });

  it('keeps base64 embeddings and usage', () => {
    const response = parseOpenAIEmbeddingsResponse(
      { model: 'm', data: [{ index: 0, embedding: 'AAAA' }], usage: { prompt_tokens: 5, total_tokens: 5 } },
      context,
      'openai',
    );
    assert.equal(response.data[0]?.embedding, 'AAAA');
    assert.equal(response.usage.prompt_tokens, 5);
  });

  it('throws malformed_response naming the field', () => {
    assert.throws(
      () => parseOpenAIEmbeddingsResponse({ data: [{ index: 0 }] }, context, 'openai'),
      /data\[0\]\.embedding/,
    );
  });
});
