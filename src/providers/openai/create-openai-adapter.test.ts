import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../types.ts';
import { createOpenAIAdapter } from './create-openai-adapter.ts';
import { openaiAdapter } from './openai-adapter.ts';

const deployment: Deployment = {
  id: 'oa',
  provider: 'openai',
  model: 'text-embedding-3-small',
  baseUrl: 'https://api.openai.com/v1/',
  apiKey: 'sk-1',
};

describe('openaiAdapter', () => {
  it('builds chat, embeddings and images requests with bearer auth and the upstream model', () => {
    const chat = openaiAdapter.buildChatRequest(
      { model: 'alias', messages: [{ role: 'user', content: 'x' }] },
      deployment,
      { stream: false },
    );
    assert.equal(chat.url, 'https://api.openai.com/v1/chat/completions');
    assert.equal(chat.headers['authorization'], 'Bearer sk-1');
    assert.equal((chat.body as { model: string }).model, 'text-embedding-3-small');
    const embeddings = openaiAdapter.buildEmbeddingsRequest?.(
      { model: 'alias', input: ['a', 'b'], dimensions: 256 },
      deployment,
    );
    assert.equal(embeddings?.url, 'https://api.openai.com/v1/embeddings');
    assert.deepEqual(embeddings?.body, {
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      dimensions: 256,
    });
    const images = openaiAdapter.buildImagesRequest?.(
      { model: 'alias', prompt: 'a cat', size: '1024x1024' },
      { ...deployment, model: 'gpt-image-1' },
    );
    assert.equal(images?.url, 'https://api.openai.com/v1/images/generations');
    assert.deepEqual(images?.body, { model: 'gpt-image-1', prompt: 'a cat', size: '1024x1024' });
  });

  it('sends no authorization header without a key', () => {
    const { apiKey: _apiKey, ...keyless } = deployment;
    const spec = openaiAdapter.buildChatRequest(
      { model: 'x', messages: [{ role: 'user', content: 'x' }] },
      keyless,
      { stream: true },
    );
    assert.equal(spec.headers['authorization'], undefined);
  });

  it('names errors after the configured provider', () => {
    const adapter = createOpenAIAdapter({ name: 'sim' });
    assert.equal(adapter.parseError({ status: 500, headers: {}, body: '' }, deployment).provider, 'sim');
  });
});
