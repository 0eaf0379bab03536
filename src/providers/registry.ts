import { ConfigError } from '../core/index.ts';
import { anthropicAdapter } from './anthropic/index.ts';
import { geminiAdapter } from './gemini/index.ts';
import { openaiAdapter, createOpenAIAdapter } from './openai/index.ts';
import { azureOpenAIAdapter, openAICompatibleAdapter } from './openai-compatible/index.ts';
import type { Deployment, ProviderAdapter, ProviderName } from './types.ts';

/** The wire formats adapters speak (the sim speaks any of the three). */
export type WireFormat = NonNullable<Deployment['wireFormat']>;

/** Chooses the adapter for a deployment. */
export interface ProviderRegistry {
  getAdapter(deployment: Deployment): ProviderAdapter;
}

export interface ProviderRegistryOptions {
  /** Replaces built-in adapters (tests, a patched provider). Keys are provider names; `sim` resolves through the wire format. */
  adapters?: Partial<Record<Exclude<ProviderName, 'sim'>, ProviderAdapter>>;
}

/**
 * The built-in adapters by provider name: `openai`, `azure` (OpenAI adapter with Azure's URL and
 * `api-key`), `openai-compatible`, `anthropic`, `gemini`, and `sim`, which uses the adapter of its
 * `wireFormat` (default openai) under the name `sim` for the OpenAI dialect.
 *
 * @example
 * const registry = createProviderRegistry();
 * registry.getAdapter({ id: 'a', provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: 'https://api.anthropic.com/v1' }).name; // 'anthropic'
 */
export function createProviderRegistry(options: ProviderRegistryOptions = {}): ProviderRegistry {
  const overrides = options.adapters ?? {};
  const adapters: Record<Exclude<ProviderName, 'sim'>, ProviderAdapter> = {
    openai: overrides.openai ?? openaiAdapter,
    azure: overrides.azure ?? azureOpenAIAdapter,
    'openai-compatible': overrides['openai-compatible'] ?? openAICompatibleAdapter,
    anthropic: overrides.anthropic ?? anthropicAdapter,
    gemini: overrides.gemini ?? geminiAdapter,
  };
  // The sim is labelled as such in errors and telemetry; strict like OpenAI so cut streams are caught.
  const simOpenAIAdapter = createOpenAIAdapter({ name: 'sim' });

  return {
    getAdapter(deployment) {
      const provider: string = deployment.provider;
      switch (deployment.provider) {
        case 'openai':
        case 'azure':
        case 'openai-compatible':
        case 'anthropic':
        case 'gemini':
          return adapters[deployment.provider];
        case 'sim': {
          const wire: string = deployment.wireFormat ?? 'openai';
          if (wire === 'openai') return simOpenAIAdapter;
          if (wire === 'anthropic' || wire === 'gemini') return adapters[wire];
          throw new ConfigError({
            message: `deployment ${deployment.id}: unknown sim wireFormat ${JSON.stringify(wire)} (expected openai, anthropic or gemini)`,
            param: `deployments.${deployment.id}.wireFormat`,
          });
        }
        default:
          throw new ConfigError({
            message: `deployment ${deployment.id}: unknown provider ${JSON.stringify(provider)} (expected one of openai, azure, openai-compatible, anthropic, gemini, sim)`,
            param: `deployments.${deployment.id}.provider`,
          });
      }
    },
  };
}
