/**
 * Providers: adapters (pure transforms between the canonical OpenAI shape and each wire
 * format), the registry choosing one per deployment, the undici transport and the client
 * composing them. The contract suite (`./provider-contract.ts`) is test support and is not
 * exported here.
 */
export * from './types.ts';
export {
  createDeploymentOptionsReader,
  resolveDeploymentOptions,
  legacyDeploymentSettings,
  type ProviderDefinition,
  type LegacyDeploymentSetting,
  type DeploymentOptionsIssue,
  type ResolvedDeploymentOptions,
} from './provider-definition.ts';
export { providerDefinitions, providerNames } from './provider-definitions.ts';
export {
  createProviderClient,
  convertResponseToChunks,
  type ProviderClientOptions,
} from './provider-client.ts';
export {
  createProviderRegistry,
  type ProviderRegistry,
  type ProviderRegistryOptions,
  type WireFormat,
} from './registry.ts';
export {
  createHttpTransport,
  mapTransportError,
  type HttpTransport,
  type HttpTransportOptions,
  type TransportBody,
  type TransportResponse,
  type TransportSendOptions,
  type MapTransportErrorContext,
} from './http-transport.ts';
export {
  openaiAdapter,
  createOpenAIAdapter,
  openAIProviderDefinition,
  type OpenAIAdapterOptions,
  type OpenAIOperation,
  type OpenAIOptions,
} from './openai/index.ts';
export {
  openAICompatibleAdapter,
  azureOpenAIAdapter,
  resolveAzureOpenAIUrl,
  defaultAzureApiVersion,
  openAICompatiblePresets,
  openAICompatiblePresetNames,
  findOpenAICompatiblePreset,
  openAICompatibleProviderDefinition,
  azureOpenAIProviderDefinition,
  type OpenAICompatibleOptions,
  type AzureOpenAIOptions,
  type OpenAICompatiblePreset,
  type OpenAICompatiblePresetName,
  type OpenAICompatibleAuthStyle,
} from './openai-compatible/index.ts';
export { anthropicAdapter, anthropicProviderDefinition, type AnthropicOptions } from './anthropic/index.ts';
export { geminiAdapter, geminiProviderDefinition } from './gemini/index.ts';
export { simProviderDefinition, type SimDeploymentWireFormat } from './sim/sim-provider-definition.ts';
export {
  parseRetryAfterMs,
  parseOpenAIResetDuration,
  classifyUpstreamError,
  classifyByStatus,
} from './shared/index.ts';
