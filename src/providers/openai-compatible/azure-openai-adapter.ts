import { createOpenAIAdapter, trimTrailingSlash, type OpenAIOperation } from '../openai/index.ts';
import type { Deployment } from '../types.ts';
import { readAzureOpenAIOptions } from './azure-openai-options.ts';

/** The GA `api-version` used when a deployment names none. */
export const defaultAzureApiVersion = '2024-10-21';

/**
 * The Azure OpenAI URL of an operation: `{baseUrl}/openai/deployments/{options.deploymentName ?? model}/{operation}?api-version=…`,
 * or, for a base URL already ending in `/openai/v1` (Azure's v1 API), `{baseUrl}/{operation}`.
 *
 * @example
 * resolveAzureOpenAIUrl({ id: 'az', provider: 'azure', model: 'gpt-4o', baseUrl: 'https://res.openai.azure.com', options: { apiVersion: '2024-10-21' } }, 'chat/completions');
 * // 'https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21'
 */
export function resolveAzureOpenAIUrl(deployment: Deployment, operation: OpenAIOperation): string {
  const base = trimTrailingSlash(deployment.baseUrl);
  const { apiVersion, deploymentName } = readAzureOpenAIOptions(deployment);
  if (/\/openai\/v1$/.test(base)) {
    return apiVersion === undefined
      ? `${base}/${operation}`
      : `${base}/${operation}?api-version=${encodeURIComponent(apiVersion)}`;
  }
  const name = encodeURIComponent(deploymentName ?? deployment.model);
  return `${base}/openai/deployments/${name}/${operation}?api-version=${encodeURIComponent(apiVersion ?? defaultAzureApiVersion)}`;
}

/**
 * Azure OpenAI: the OpenAI adapter with Azure's deployment URL and `api-key` header. Retry hints
 * come as `retry-after-ms` / `x-ms-retry-after-ms` / `retry-after`; errors can arrive inside
 * HTTP-200 streams and are mapped like any other.
 *
 * @example
 * const deployment = { id: 'az-eu', provider: 'azure', model: 'gpt-4o', baseUrl: 'https://my-res.openai.azure.com', apiKey, options: { apiVersion: '2024-10-21', deploymentName: 'gpt4o-prod' } };
 * azureOpenAIAdapter.buildChatRequest(request, deployment, { stream: false }).url;
 */
export const azureOpenAIAdapter = createOpenAIAdapter({
  name: 'azure',
  resolveUrl: resolveAzureOpenAIUrl,
  createAuthHeaders: (deployment) =>
    deployment.apiKey === undefined || deployment.apiKey === '' ? {} : { 'api-key': deployment.apiKey },
  renameMaxTokensForReasoningModels: true,
});
