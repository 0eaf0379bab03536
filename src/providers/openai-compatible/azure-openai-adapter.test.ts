import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../types.ts';
import { azureOpenAIAdapter, defaultAzureApiVersion, resolveAzureOpenAIUrl } from './azure-openai-adapter.ts';

const deployment: Deployment = {
  id: 'az',
  provider: 'azure',
  model: 'gpt-4o',
  baseUrl: 'https://res.openai.azure.com/',
  apiKey: 'azk',
  options: { apiVersion: '2024-10-21' },
};

describe('azure OpenAI', () => {
  it('builds deployment URLs with api-version', () => {
    assert.equal(
      resolveAzureOpenAIUrl(deployment, 'chat/completions'),
      'https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
    );
    assert.equal(
      resolveAzureOpenAIUrl(
        { ...deployment, options: { apiVersion: '2024-10-21', deploymentName: 'emb prod' } },
        'embeddings',
      ),
      'https://res.openai.azure.com/openai/deployments/emb%20prod/embeddings?api-version=2024-10-21',
    );
    const { options: _options, ...noVersion } = deployment;
    assert.equal(
      resolveAzureOpenAIUrl(noVersion, 'images/generations'),
      `https://res.openai.azure.com/openai/deployments/gpt-4o/images/generations?api-version=${defaultAzureApiVersion}`,
    );
  });

  it('supports the v1 API base URL', () => {
    const { options: _options, ...v1 } = {
      ...deployment,
      baseUrl: 'https://res.openai.azure.com/openai/v1',
    };
    assert.equal(
      resolveAzureOpenAIUrl(v1, 'chat/completions'),
      'https://res.openai.azure.com/openai/v1/chat/completions',
    );
  });

  it('authenticates with api-key, never Authorization', () => {
    const spec = azureOpenAIAdapter.buildChatRequest(
      { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
      deployment,
      { stream: true },
    );
    assert.equal(spec.headers['api-key'], 'azk');
    assert.equal(spec.headers['authorization'], undefined);
    assert.deepEqual((spec.body as Record<string, unknown>)['stream_options'], { include_usage: true });
  });

  it('reads x-ms-retry-after-ms on 429s', () => {
    const error = azureOpenAIAdapter.parseError(
      {
        status: 429,
        headers: { 'x-ms-retry-after-ms': '900' },
        body: '{"error":{"code":"429","message":"Rate limit is exceeded."}}',
      },
      deployment,
    );
    assert.equal(error.kind, 'rate_limited');
    assert.equal(error.retryAfterMs, 900);
    assert.equal(error.provider, 'azure');
  });
});
