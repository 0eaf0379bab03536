import type { ProviderDefinition } from '../provider-definition.ts';
import { azureOpenAIAdapter } from './azure-openai-adapter.ts';
import { azureOpenAIOptionsSchema } from './azure-openai-options.ts';

/**
 * `provider: azure`: Azure OpenAI, the OpenAI adapter with Azure's deployment URL, `api-key`
 * header, `options.apiVersion` (required) and `options.deploymentName`.
 *
 * @example
 * azureOpenAIProviderDefinition.legacySettings?.azureDeployment; // 'deploymentName'
 */
export const azureOpenAIProviderDefinition: ProviderDefinition = {
  name: 'azure',
  description: 'Azure OpenAI',
  optionsSchema: azureOpenAIOptionsSchema,
  legacySettings: { apiVersion: 'apiVersion', azureDeployment: 'deploymentName' },
  adapter: azureOpenAIAdapter,
};
