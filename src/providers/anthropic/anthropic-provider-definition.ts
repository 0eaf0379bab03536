import type { ProviderDefinition } from '../provider-definition.ts';
import { anthropicOptionsSchema } from './anthropic-options.ts';
import { anthropicAdapter } from './create-anthropic-adapter.ts';

/**
 * `provider: anthropic`: the Anthropic Messages API, with `options.version`, `options.beta`
 * and `options.defaultMaxTokens`.
 *
 * @example
 * anthropicProviderDefinition.legacySettings?.apiVersion; // 'version'
 */
export const anthropicProviderDefinition: ProviderDefinition = {
  name: 'anthropic',
  description: 'Anthropic Messages API',
  optionsSchema: anthropicOptionsSchema,
  legacySettings: { apiVersion: 'version', defaultMaxTokens: 'defaultMaxTokens' },
  adapter: anthropicAdapter,
};
