import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../core/index.ts';
import { createProviderRegistry } from '../providers/index.ts';
import { parseConfig } from './load-config.ts';

const deployment = (fields: Record<string, unknown>) => ({
  id: 'd',
  model: 'm',
  baseUrl: 'https://upstream.test/v1',
  apiKey: 'k',
  ...fields,
});
const parseDeployment = (fields: Record<string, unknown>) => {
  const config = parseConfig({ deployments: [deployment(fields)] });
  const parsed = config.deployments[0];
  assert.ok(parsed !== undefined);
  return parsed;
};
const rejects = (fields: Record<string, unknown>, param: string, message: RegExp) =>
  assert.throws(
    () => parseDeployment(fields),
    (error: unknown) => error instanceof ConfigError && error.param === param && message.test(error.message),
  );

describe('deployment options', () => {
  it("keeps each provider's settings under options, checked by its definition", () => {
    assert.deepEqual(
      parseDeployment({
        provider: 'anthropic',
        options: { version: '2023-06-01', beta: ['prompt-caching-2024-07-31'], defaultMaxTokens: 8192 },
      }).options,
      { version: '2023-06-01', beta: ['prompt-caching-2024-07-31'], defaultMaxTokens: 8192 },
    );
    assert.deepEqual(
      parseDeployment({ provider: 'azure', options: { apiVersion: '2024-10-21', deploymentName: 'prod' } })
        .options,
      { apiVersion: '2024-10-21', deploymentName: 'prod' },
    );
    assert.equal(parseDeployment({ provider: 'gemini' }).options, undefined);
  });

  it('refuses an option the provider does not have, or of the wrong type, naming it', () => {
    rejects(
      { provider: 'anthropic', options: { verison: '2023-06-01' } },
      'deployments[0].options',
      /verison/,
    );
    rejects(
      { provider: 'anthropic', options: { defaultMaxTokens: 0 } },
      'deployments[0].options.defaultMaxTokens',
      /defaultMaxTokens/,
    );
    rejects(
      { provider: 'sim', options: { wireFormat: 'soap' } },
      'deployments[0].options.wireFormat',
      /wireFormat/,
    );
    rejects({ provider: 'gemini', options: { apiVersion: 'v1' } }, 'deployments[0].options', /apiVersion/);
  });

  it('requires an azure deployment to name its api version', () => {
    rejects(
      { provider: 'azure', baseUrl: 'https://res.openai.azure.com' },
      'deployments[0].options.apiVersion',
      /is required for azure deployments/,
    );
  });

  it('accepts the older top-level spellings, moved under options by the provider that used them', () => {
    assert.deepEqual(
      parseDeployment({ provider: 'azure', apiVersion: '2024-10-21', azureDeployment: 'prod' }).options,
      { apiVersion: '2024-10-21', deploymentName: 'prod' },
    );
    assert.deepEqual(
      parseDeployment({ provider: 'anthropic', apiVersion: '2023-06-01', defaultMaxTokens: 1000 }).options,
      { version: '2023-06-01', defaultMaxTokens: 1000 },
    );
    const sim = parseDeployment({ provider: 'sim', wireFormat: 'gemini' });
    assert.deepEqual(sim.options, { wireFormat: 'gemini' });
    assert.equal('wireFormat' in sim, false);
  });

  it("names the older spelling the user wrote when it is wrong, given twice or not the provider's", () => {
    rejects({ provider: 'sim', wireFormat: 'soap' }, 'deployments[0].wireFormat', /expected one of/);
    rejects(
      { provider: 'azure', apiVersion: '2024-10-21', options: { apiVersion: '2024-06-01' } },
      'deployments[0].apiVersion',
      /given twice/,
    );
    rejects(
      { provider: 'openai', wireFormat: 'openai' },
      'deployments[0].wireFormat',
      /not a setting of provider openai/,
    );
  });

  it('refuses a provider that is not registered, listing the registered ones', () => {
    rejects(
      { provider: 'cohere' },
      'deployments[0].provider',
      /unknown provider "cohere" \(expected one of openai, anthropic, gemini, openai-compatible, azure, sim\)/,
    );
  });

  it('reaches the wire: the adapter of a configured deployment sends what its options say', () => {
    const registry = createProviderRegistry();
    const request = { model: 'm', messages: [{ role: 'user' as const, content: 'Hi' }] };
    const anthropic = parseDeployment({
      provider: 'anthropic',
      options: { version: '2024-01-01', beta: 'x-beta' },
    });
    const anthropicSpec = registry
      .getAdapter(anthropic)
      .buildChatRequest(request, anthropic, { stream: false });
    assert.equal(anthropicSpec.headers['anthropic-version'], '2024-01-01');
    assert.equal(anthropicSpec.headers['anthropic-beta'], 'x-beta');
    const openai = parseDeployment({
      provider: 'openai',
      options: { organization: 'org_1', project: 'proj_1' },
    });
    const openaiSpec = registry.getAdapter(openai).buildChatRequest(request, openai, { stream: false });
    assert.equal(openaiSpec.headers['openai-organization'], 'org_1');
    assert.equal(openaiSpec.headers['openai-project'], 'proj_1');
    const legacyAzure = parseDeployment({
      provider: 'azure',
      baseUrl: 'https://res.openai.azure.com',
      apiVersion: '2024-10-21',
      azureDeployment: 'prod',
    });
    assert.equal(
      registry.getAdapter(legacyAzure).buildChatRequest(request, legacyAzure, { stream: false }).url,
      'https://res.openai.azure.com/openai/deployments/prod/chat/completions?api-version=2024-10-21',
    );
    const mistralLike = parseDeployment({ provider: 'openai-compatible', options: { streamUsage: false } });
    const body = registry
      .getAdapter(mistralLike)
      .buildChatRequest(request, mistralLike, { stream: true }).body;
    assert.equal((body as { stream_options?: unknown }).stream_options, undefined);
    const sim = parseDeployment({ provider: 'sim', wireFormat: 'anthropic' });
    assert.equal(registry.getAdapter(sim).name, 'anthropic');
  });
});
