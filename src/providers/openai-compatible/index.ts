export { openAICompatibleAdapter } from './openai-compatible-adapter.ts';
export { azureOpenAIAdapter, resolveAzureOpenAIUrl, defaultAzureApiVersion } from './azure-openai-adapter.ts';
export {
  openAICompatiblePresets,
  openAICompatiblePresetNames,
  findOpenAICompatiblePreset,
  type OpenAICompatiblePreset,
  type OpenAICompatiblePresetName,
  type OpenAICompatibleAuthStyle,
} from './openai-compatible-presets.ts';
