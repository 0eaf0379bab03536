import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { PipewrightError } from '../core/index.ts';
import { openaiAdapter } from './openai/index.ts';
import type { ProviderDefinition } from './provider-definition.ts';
import { providerDefinitions } from './provider-definitions.ts';
import { createProviderRegistry } from './registry.ts';
import type { Deployment } from './types.ts';

const base: Deployment = {
  id: 'd',
  provider: 'openai',
  model: 'm',
  baseUrl: 'https://example.test/v1',
  apiKey: 'k',
};
const request = { model: 'x', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('createProviderRegistry', () => {
  const registry = createProviderRegistry();

  it('chooses the adapter named by the deployment', () => {
    assert.equal(registry.getAdapter(base).name, 'openai');
    assert.equal(registry.getAdapter({ ...base, provider: 'openai-compatible' }).name, 'openai-compatible');
    assert.equal(registry.getAdapter({ ...base, provider: 'anthropic' }).name, 'anthropic');
    assert.equal(registry.getAdapter({ ...base, provider: 'gemini' }).name, 'gemini');
  });

  it('serves azure with the OpenAI adapter on an Azure URL and api-key header', () => {
    const spec = registry
      .getAdapter({
        ...base,
        provider: 'azure',
        baseUrl: 'https://res.openai.azure.com',
        options: { apiVersion: '2024-10-21', deploymentName: 'prod' },
      })
      .buildChatRequest(
        request,
        {
          ...base,
          provider: 'azure',
          baseUrl: 'https://res.openai.azure.com',
          options: { apiVersion: '2024-10-21', deploymentName: 'prod' },
        },
        { stream: false },
      );
    assert.equal(
      spec.url,
      'https://res.openai.azure.com/openai/deployments/prod/chat/completions?api-version=2024-10-21',
    );
    assert.equal(spec.headers['api-key'], 'k');
  });

  it('serves the sim with the adapter of its wire format', () => {
    assert.equal(registry.getAdapter({ ...base, provider: 'sim' }).name, 'sim');
    const simOpenAI = registry.getAdapter({ ...base, provider: 'sim', options: { wireFormat: 'openai' } });
    assert.equal(
      simOpenAI.buildChatRequest(request, base, { stream: false }).url,
      'https://example.test/v1/chat/completions',
    );
    assert.equal(
      registry.getAdapter({ ...base, provider: 'sim', options: { wireFormat: 'anthropic' } }).name,
      'anthropic',
    );
    assert.equal(
      registry.getAdapter({ ...base, provider: 'sim', options: { wireFormat: 'gemini' } }).name,
      'gemini',
    );
  });

  it('rejects an unknown provider or wire format with a config error naming the deployment', () => {
    const unknown = { ...base, provider: 'cohere' } as unknown as Deployment;
    assert.throws(
      () => registry.getAdapter(unknown),
      (error: unknown) =>
        PipewrightError.isInstance(error) &&
        error.code === 'config.invalid' &&
        /deployment d: unknown provider "cohere"/.test(error.message),
    );
    const badWire: Deployment = { ...base, provider: 'sim', options: { wireFormat: 'soap' } };
    assert.throws(
      () => registry.getAdapter(badWire),
      (error: unknown) =>
        PipewrightError.isInstance(error) &&
        error.code === 'config.invalid' &&
        error.param === 'deployments.d.options.wireFormat' &&
        /deployment d \(sim\): options\.wireFormat: /.test(error.message),
    );
  });

  it('lets callers replace an adapter, also where another provider answers through it', () => {
    const custom = { ...openaiAdapter, name: 'openai' as const };
    assert.equal(createProviderRegistry({ adapters: { openai: custom } }).getAdapter(base), custom);
    const anthropic = { ...openaiAdapter, name: 'anthropic' };
    assert.equal(
      createProviderRegistry({ adapters: { anthropic } }).getAdapter({
        ...base,
        provider: 'sim',
        options: { wireFormat: 'anthropic' },
      }),
      anthropic,
    );
  });

  it('serves a provider registered as a definition, with no other change', () => {
    const acme: ProviderDefinition = {
      name: 'acme',
      description: 'A provider added by a library user',
      optionsSchema: z.strictObject({}),
      adapter: { ...openaiAdapter, name: 'acme' },
    };
    const withAcme = createProviderRegistry({ providers: [acme] });
    assert.equal(withAcme.getAdapter({ ...base, provider: 'acme' }).name, 'acme');
    assert.equal(withAcme.getAdapter(base).name, 'openai');
  });

  it('registers every shipped provider from the one list of definitions', () => {
    assert.deepEqual(
      providerDefinitions.map((definition) => definition.name),
      ['openai', 'anthropic', 'gemini', 'openai-compatible', 'azure', 'sim'],
    );
    for (const definition of providerDefinitions) {
      assert.equal(registry.getAdapter({ ...base, provider: definition.name }), definition.adapter);
    }
  });
});
