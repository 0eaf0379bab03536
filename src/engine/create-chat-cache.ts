import { hashValue, type Clock } from '../core/index.ts';
import {
  createConceptNormalizer,
  createDuplicateVerifier,
  createExactCache,
  createPrecisionGuard,
  defaultSemanticFallbackThreshold,
  defaultSemanticThreshold,
  ruleGuardSemanticFallbackThreshold,
  ruleGuardSemanticThreshold,
  createLocalEmbedder,
  createMemoryCacheBackend,
  createProviderEmbedder,
  createSemanticCache,
  createSingleFlight,
  type CacheBackend,
  type CacheRule,
  type EmbedFunction,
  type SemanticCache,
  type SemanticCachePersistence,
} from '../cache/index.ts';
import type { EngineSettings } from './engine-settings.ts';
import type { ChatCache } from './layers/cache-layer.ts';

export interface ChatCacheOptions {
  config: EngineSettings;
  clock: Clock;
  /** Where exact entries live (the Redis backend from main.ts); default: in process, bounded by `cache.maxBytes`. */
  backend?: CacheBackend | undefined;
  /** Where semantic entries are persisted (the store); their indexes are rebuilt from it on first use. */
  persistence?: SemanticCachePersistence | undefined;
  /** A failed rebuild of the semantic index from the store (logged by the gateway). */
  onRestoreError?: ((error: unknown) => void) | undefined;
  /** Embeddings through the engine, for `cache.semantic.embedder: { modelGroup }`. */
  embedThrough: (modelGroup: string, timeoutMs: number) => EmbedFunction;
}

/**
 * The caches of chat calls, from the `cache` section: the exact cache (in process or the given
 * backend), single-flight, and the semantic cache when any rule enables it.
 *
 * @example
 * const cache = createChatCache({ config, clock, embedThrough: (group) => (inputs) => embedWith(group, inputs) });
 */
export function createChatCache(options: ChatCacheOptions): ChatCache {
  const { config, clock } = options;
  const {
    maxBytes,
    maxBytesPerTenant,
    modelGroups,
    stepTypes,
    backend: _backend,
    semantic: semanticSection,
    ...flat
  } = config.cache;
  const {
    embedder: embedderChoice,
    embedTimeoutMs,
    maxEntries,
    maxEntriesPerNamespace,
    maxEntriesPerTenant,
    ...semanticRule
  } = semanticSection;
  const local = embedderChoice === 'local';
  // Unset thresholds follow the guard that decides: the learned verifier for the local embedder
  // (calibrated on its similarities), the rule guard for a provider's embeddings.
  const defaults: CacheRule = {
    ...flat,
    semantic: {
      ...semanticRule,
      threshold: semanticRule.threshold ?? (local ? defaultSemanticThreshold : ruleGuardSemanticThreshold),
      fallbackThreshold:
        semanticRule.fallbackThreshold ??
        (local ? defaultSemanticFallbackThreshold : ruleGuardSemanticFallbackThreshold),
    },
  };
  const policy = { defaults, modelGroups, stepTypes };
  const backend = options.backend ?? createMemoryCacheBackend({ maxBytes, maxBytesPerTenant, clock });
  const cache: ChatCache = {
    exact: createExactCache({ backend, clock, policy }),
    flights: createSingleFlight(),
  };
  const rules = [defaults, ...Object.values(modelGroups), ...Object.values(stepTypes)];
  if (!rules.some((rule) => rule.semantic?.enabled === true)) return cache;
  const normalizer = createConceptNormalizer();
  const embedder = local
    ? createLocalEmbedder()
    : // The id names the group and its models: entries embedded by another model never match this one's.
      createProviderEmbedder({
        id: `model-group:${embedderChoice.modelGroup}:${embeddingModelsOf(config, embedderChoice.modelGroup)}`,
        embed: options.embedThrough(embedderChoice.modelGroup, embedTimeoutMs),
      });
  const semantic = createSemanticCache({
    embedder,
    clock,
    normalizer,
    guard: local ? createDuplicateVerifier(normalizer) : createPrecisionGuard(normalizer),
    maxEntries,
    maxEntriesPerNamespace,
    ...(maxEntriesPerTenant === undefined ? {} : { maxEntriesPerTenant }),
    ...(options.persistence === undefined ? {} : { persistence: options.persistence }),
  });
  cache.semantic =
    options.persistence === undefined ? semantic : restoringInBackground(semantic, options.onRestoreError);
  return cache;
}

/**
 * The semantic cache with its persisted entries loading in the background from creation on
 * (createEngine is synchronous). Lookups and stores do not wait: until the index is rebuilt a
 * lookup sees what is loaded so far, and a miss is always safe. A failed restore is reported and
 * tried again on the next `restore()`.
 */
function restoringInBackground(
  semantic: SemanticCache,
  onError: ((error: unknown) => void) | undefined,
): SemanticCache {
  let restoring: Promise<number> | undefined;
  const start = () => {
    restoring ??= semantic.restore().catch((error: unknown) => {
      restoring = undefined;
      onError?.(error);
      return 0;
    });
    return restoring;
  };
  void start();
  return {
    lookup: (...args) => semantic.lookup(...args),
    store: (...args) => semantic.store(...args),
    restore: async () => {
      await start();
      return semantic.stats().entries;
    },
    stats: () => semantic.stats(),
  };
}

/** A short hash of which provider models a model group embeds with (a change of model is a new vector space). */
function embeddingModelsOf(config: EngineSettings, modelGroup: string): string {
  const group = config.modelGroups.find((candidate) => candidate.name === modelGroup);
  const models = (group?.deployments ?? []).map((id) => {
    const deployment = config.deployments.find((candidate) => candidate.id === id);
    return [deployment?.provider, deployment?.model, deployment?.options ?? null];
  });
  return hashValue(models).slice(0, 16);
}
