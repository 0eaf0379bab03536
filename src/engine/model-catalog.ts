import { PipewrightError } from '../core/index.ts';
import type { Deployment } from '../providers/index.ts';
import type { BalancingStrategy } from '../resilience/index.ts';

export interface ModelGroup {
  name: string;
  deployments: Deployment[];
  description?: string;
  /** How deployments are ordered per call (default `ordered`). */
  strategy: BalancingStrategy;
  /** Groups tried in order when every deployment of this one failed with an error another could avoid. */
  fallbacks: string[];
  contextLengthFallback?: string;
  contentFilterFallback?: string;
}

export interface ModelGroupInput {
  name: string;
  description?: string | undefined;
  deployments: readonly string[];
  strategy?: BalancingStrategy | undefined;
  fallbacks?: readonly string[] | undefined;
  contextLengthFallback?: string | undefined;
  contentFilterFallback?: string | undefined;
}

/** Model groups and their deployments, resolved once from configuration. */
export interface ModelCatalog {
  /** Throws `gateway.model_not_found` (naming the `model` field) for an unknown group. */
  resolve(name: string): ModelGroup;
  has(name: string): boolean;
  list(): ModelGroup[];
}

export function createModelCatalog(
  groups: readonly ModelGroupInput[],
  deployments: readonly Deployment[],
): ModelCatalog {
  const byId = new Map(deployments.map((deployment) => [deployment.id, deployment]));
  const byName = new Map<string, ModelGroup>();
  for (const group of groups) {
    const resolved: ModelGroup = {
      name: group.name,
      deployments: group.deployments.map((id) => {
        const deployment = byId.get(id);
        if (deployment === undefined)
          throw new PipewrightError({
            code: 'config.invalid',
            message: `model group ${group.name}: unknown deployment ${id}`,
          });
        return deployment;
      }),
      strategy: group.strategy ?? 'ordered',
      fallbacks: [...(group.fallbacks ?? [])],
    };
    if (group.description !== undefined) resolved.description = group.description;
    if (group.contextLengthFallback !== undefined)
      resolved.contextLengthFallback = group.contextLengthFallback;
    if (group.contentFilterFallback !== undefined)
      resolved.contentFilterFallback = group.contentFilterFallback;
    byName.set(group.name, resolved);
  }
  return {
    resolve(name) {
      const group = byName.get(name);
      if (group === undefined) {
        throw new PipewrightError({
          code: 'gateway.model_not_found',
          message: `The model \`${name}\` does not exist or you do not have access to it. Known models: ${[...byName.keys()].join(', ') || '(none configured)'}`,
          param: 'model',
        });
      }
      return group;
    },
    has: (name) => byName.has(name),
    list: () => [...byName.values()],
  };
}
