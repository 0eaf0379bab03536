import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../../core/index.ts';
import type { Deployment } from '../types.ts';
import { buildGeminiEmbeddingsRequest } from './build-gemini-embeddings-request.ts';

const deployment: Deployment = {
  id: 'gemini-emb',
  provider: 'gemini',
  model: 'gemini-embedding-001',
  baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  apiKey: 'AIza-test',
};

describe('buildGeminiEmbeddingsRequest', () => {
  it('posts one batchEmbedContents request per input, with the output dimensionality', () => {
    const spec = buildGeminiEmbeddingsRequest(
      { model: 'emb', input: ['first', 'second'], dimensions: 256 },
      deployment,
    );
    assert.equal(
      spec.url,
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents',
    );
    assert.equal(spec.headers['x-goog-api-key'], 'AIza-test');
    assert.deepEqual(spec.body, {
      requests: [
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'first' }] },
          outputDimensionality: 256,
        },
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'second' }] },
          outputDimensionality: 256,
        },
      ],
    });
  });

  it('accepts a single string', () => {
    const spec = buildGeminiEmbeddingsRequest({ model: 'emb', input: 'only' }, deployment);
    assert.deepEqual(spec.body, {
      requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'only' }] } }],
    });
  });

  it('refuses more inputs than one Gemini batch takes', () => {
    assert.throws(
      () =>
        buildGeminiEmbeddingsRequest(
          { model: 'emb', input: Array.from({ length: 101 }, (_, index) => `text ${index}`) },
          deployment,
        ),
      (error: unknown) =>
        PipewrightError.isInstance(error) && error.param === 'input' && error.message.includes('100'),
    );
    assert.equal(
      (
        buildGeminiEmbeddingsRequest(
          { model: 'emb', input: Array.from({ length: 100 }, () => 'x') },
          deployment,
        ).body as { requests: unknown[] }
      ).requests.length,
      100,
    );
  });

  it('refuses token-id inputs, naming the field', () => {
    assert.throws(
      () => buildGeminiEmbeddingsRequest({ model: 'emb', input: [[1, 2, 3]] }, deployment),
      (error: unknown) => PipewrightError.isInstance(error) && error.param === 'input[0]',
    );
  });
});
