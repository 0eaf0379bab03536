import type { ProviderDefinition } from '../provider-definition.ts';
import { openaiAdapter } from './openai-adapter.ts';
import { openAIOptionsSchema } from './openai-options.ts';

/**
 * `provider: openai`: api.openai.com (or a proxy in front of it), with bearer auth and optional
 * `options.organization` / `options.project` headers.
 *
 * @example
 * openAIProviderDefinition.adapter.name; // 'openai'
 */
export const openAIProviderDefinition: ProviderDefinition = {
  name: 'openai',
  description: 'OpenAI (api.openai.com)',
  optionsSchema: openAIOptionsSchema,
  adapter: openaiAdapter,
};
