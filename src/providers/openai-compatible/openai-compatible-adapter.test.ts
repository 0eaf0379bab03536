import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatRequest } from '../../spec/index.ts';
import { openAICompatibleAdapter } from './openai-compatible-adapter.ts';

const request: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 };

describe('openAICompatibleAdapter', () => {
  it('asks for stream usage by default', () => {
    const spec = openAICompatibleAdapter.buildChatRequest(
      request,
      { id: 'l', provider: 'openai-compatible', model: 'llama3.2', baseUrl: 'http://127.0.0.1:11434/v1' },
      { stream: true },
    );
    assert.equal(spec.url, 'http://127.0.0.1:11434/v1/chat/completions');
    assert.deepEqual((spec.body as Record<string, unknown>)['stream_options'], { include_usage: true });
    assert.equal(spec.headers['authorization'], undefined);
  });

  it('omits stream_options for Mistral, which rejects unknown fields with a 422', () => {
    const spec = openAICompatibleAdapter.buildChatRequest(
      request,
      {
        id: 'm',
        provider: 'openai-compatible',
        model: 'mistral-small-latest',
        baseUrl: 'https://api.mistral.ai/v1',
        apiKey: 'k',
      },
      { stream: true },
    );
    const body = spec.body as Record<string, unknown>;
    assert.equal(body['stream'], true);
    assert.equal('stream_options' in body, false);
    assert.equal(spec.headers['authorization'], 'Bearer k');
  });

  it('does not rename max_tokens (only OpenAI reasoning models need it)', () => {
    const spec = openAICompatibleAdapter.buildChatRequest(
      request,
      { id: 'o', provider: 'openai-compatible', model: 'o3-mini', baseUrl: 'http://127.0.0.1:8000/v1' },
      { stream: false },
    );
    assert.equal((spec.body as Record<string, unknown>)['max_tokens'], 5);
  });
});
