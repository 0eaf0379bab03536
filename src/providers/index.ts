/**
 * Providers: adapters (pure transforms between the canonical OpenAI shape and each wire
 * format), the registry choosing one per deployment, the undici transport and the client
 * composing them. The contract suite (`./provider-contract.ts`) is test support and is not
 * exported here.
 */
export * from './types.ts';
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
  type OpenAIAdapterOptions,
  type OpenAIOperation,
} from './openai/index.ts';
export {
  openAICompatibleAdapter,
  azureOpenAIAdapter,
  resolveAzureOpenAIUrl,
  defaultAzureApiVersion,
  openAICompatiblePresets,
  openAICompatiblePresetNames,
  findOpenAICompatiblePreset,
  type OpenAICompatiblePreset,
  type OpenAICompatiblePresetName,
  type OpenAICompatibleAuthStyle,
} from './openai-compatible/index.ts';
export { anthropicAdapter } from './anthropic/index.ts';
export { geminiAdapter } from './gemini/index.ts';
export {
  parseRetryAfterMs,
  parseOpenAIResetDuration,
  classifyUpstreamError,
  classifyByStatus,
} from './shared/index.ts';
