import { anthropicProviderDefinition } from './anthropic/anthropic-provider-definition.ts';
import { geminiProviderDefinition } from './gemini/gemini-provider-definition.ts';
import { azureOpenAIProviderDefinition } from './openai-compatible/azure-openai-provider-definition.ts';
import { openAICompatibleProviderDefinition } from './openai-compatible/openai-compatible-provider-definition.ts';
import { openAIProviderDefinition } from './openai/openai-provider-definition.ts';
import type { ProviderDefinition } from './provider-definition.ts';
import { simProviderDefinition } from './sim/sim-provider-definition.ts';

/**
 * The providers Pipewright ships: the one list that registers them. The registry and the config
 * schema (which `provider` values and `options` a deployment may have) read it. A new provider
 * is a folder exporting its {@link ProviderDefinition} plus one line here (and its options in
 * docs/configuration.md).
 *
 * @example
 * providerDefinitions.map((definition) => definition.name);
 * // ['openai', 'anthropic', 'gemini', 'openai-compatible', 'azure', 'sim']
 */
export const providerDefinitions: readonly ProviderDefinition[] = [
  openAIProviderDefinition,
  anthropicProviderDefinition,
  geminiProviderDefinition,
  openAICompatibleProviderDefinition,
  azureOpenAIProviderDefinition,
  simProviderDefinition,
];

/** The names of the shipped providers, for CLI help and docs. */
export const providerNames: readonly string[] = providerDefinitions.map((definition) => definition.name);
