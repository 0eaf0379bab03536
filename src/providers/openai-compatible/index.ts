export { openAICompatibleAdapter } from './openai-compatible-adapter.ts';
export { openAICompatibleProviderDefinition } from './openai-compatible-provider-definition.ts';
export { azureOpenAIProviderDefinition } from './azure-openai-provider-definition.ts';
export {
  openAICompatibleOptionsSchema,
  readOpenAICompatibleOptions,
  type OpenAICompatibleOptions,
} from './openai-compatible-options.ts';
export {
  azureOpenAIOptionsSchema,
  readAzureOpenAIOptions,
  type AzureOpenAIOptions,
} from './azure-openai-options.ts';
export { azureOpenAIAdapter, resolveAzureOpenAIUrl, defaultAzureApiVersion } from './azure-openai-adapter.ts';
export {
  openAICompatiblePresets,
  openAICompatiblePresetNames,
  findOpenAICompatiblePreset,
  type OpenAICompatiblePreset,
  type OpenAICompatiblePresetName,
  type OpenAICompatibleAuthStyle,
} from './openai-compatible-presets.ts';
