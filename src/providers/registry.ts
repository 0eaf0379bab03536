import { ConfigError } from '../core/index.ts';
import type { ProviderDefinition } from './provider-definition.ts';
import { providerDefinitions } from './provider-definitions.ts';
import type { SimDeploymentWireFormat } from './sim/sim-provider-definition.ts';
import type { Deployment, ProviderAdapter } from './types.ts';

/** The wire formats adapters speak (the sim speaks any of the three). */
export type WireFormat = SimDeploymentWireFormat;

/** Chooses the adapter for a deployment. */
export interface ProviderRegistry {
  getAdapter(deployment: Deployment): ProviderAdapter;
}

export interface ProviderRegistryOptions {
  /**
   * More providers, or replacements of shipped ones (same name): registered after
   * {@link providerDefinitions}.
   */
  providers?: readonly ProviderDefinition[];
  /**
   * Replaces the adapter of a provider by name (tests, a patched provider). A provider that
   * answers through another's adapter (`sim` with `wireFormat: anthropic`) gets the replacement too.
   */
  adapters?: Readonly<Record<string, ProviderAdapter>>;
}

/**
 * The adapter of each deployment, found by its `provider` among the registered definitions
 * ({@link providerDefinitions} plus `options.providers`); a definition may choose per
 * deployment (the sim answers in the wire format its options name).
 *
 * @example
 * const registry = createProviderRegistry();
 * registry.getAdapter({ id: 'a', provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: 'https://api.anthropic.com/v1' }).name; // 'anthropic'
 */
export function createProviderRegistry(options: ProviderRegistryOptions = {}): ProviderRegistry {
  const definitions = new Map<string, ProviderDefinition>();
  for (const definition of [...providerDefinitions, ...(options.providers ?? [])])
    definitions.set(definition.name, definition);
  const overrides = new Map(Object.entries(options.adapters ?? {}));

  function defaultAdapterOf(name: string): ProviderAdapter | undefined {
    return overrides.get(name) ?? definitions.get(name)?.adapter;
  }

  return {
    getAdapter(deployment) {
      const definition = definitions.get(deployment.provider);
      if (definition === undefined) {
        throw new ConfigError({
          message: `deployment ${deployment.id}: unknown provider ${JSON.stringify(deployment.provider)} (expected one of ${[...definitions.keys()].join(', ')})`,
          param: `deployments.${deployment.id}.provider`,
        });
      }
      const override = overrides.get(definition.name);
      if (override !== undefined || definition.selectAdapter === undefined)
        return override ?? definition.adapter;
      return definition.selectAdapter(deployment, (name) => {
        const adapter = defaultAdapterOf(name);
        if (adapter === undefined) {
          throw new ConfigError({
            message: `deployment ${deployment.id}: provider ${definition.name} answers through unknown provider ${JSON.stringify(name)}`,
            param: `deployments.${deployment.id}.options`,
          });
        }
        return adapter;
      });
    },
  };
}
