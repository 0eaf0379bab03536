/**
 * Caching: exact cache, semantic cache, single-flight. Standalone modules; the call pipeline
 * (src/engine/call-pipeline.ts) composes them in this order — the interface it is meant to call:
 *
 * ```ts
 * // once, at start (main.ts / createEngine):
 * const backend = config.redis                     // shared by every gateway process, or in-process
 *   ? createRedisCacheBackend({ url: config.redis.url, keyPrefix: config.redis.keyPrefix, clock, logger, registry })
 *   : createMemoryCacheBackend({ maxBytes, clock });
 * const exact = createExactCache({ backend, clock, policy: config.cache });
 * const semantic = createSemanticCache({ embedder: createLocalEmbedder(), clock, persistence: store.semanticCache });
 * await semantic.restore();                        // rebuild the HNSW indexes from the store
 * // at shutdown: await backend.close?.()          (the Redis backend has close())
 * const flights = createSingleFlight();
 *
 * // per chat call, after authentication, validation and budget reservation:
 * const control = parseCacheControl(headers['x-pipewright-cache-control'] ?? options.cache); // 400 naming a bad directive
 * const scope = { tenant, stepType, modelGroup, configFingerprint: fingerprintConfig(groupConfig) };
 * const plan = exact.plan(scope, request, control);
 * const hit = await exact.lookup(plan);                        // x-pipewright-cache: hit
 *   → answer from hit.entry.answer: toChatResponse(), or replayChunks(toChatChunks()) for a stream;
 *     record hit.entry.avoided (cost and latency saved)
 * if (plan.decision.semantic) semantic.lookup(scope, request, plan.rule.semantic)  // semantic-hit, with similarity/confidence
 * if (plan.decision.forceRefresh-ish: !plan.decision.joinInFlight) call upstream directly, else
 *   flights.run({ tenant, key: plan.key }, (signal) => callUpstream(signal), clientSignal)
 *   flights.stream({ tenant, key: plan.key }, (signal) => streamUpstream(signal), clientSignal)
 * on success: exact.store(plan, answer, avoided); when plan.decision.semantic || the rule enables
 *   semantic: semantic.store(scope, request, answer, avoided, { ttlMs: plan.decision.ttlMs, multiTurn, vector })
 * status header: `bypass` when !plan.decision.read, else `miss`.
 * ```
 *
 * Every key and namespace holds the tenant and the model group's configuration fingerprint, so no
 * lookup, semantic match or single-flight join crosses tenants, and a configuration change makes
 * every older entry unreachable.
 */
export {
  createCacheKey,
  fieldsIgnoredByCacheKey,
  fingerprintConfig,
  selectAnswerFields,
  type CacheScope,
} from './cache-key.ts';
export {
  cacheControlHeader,
  cacheStatusHeader,
  cacheStatuses,
  maxTtlSeconds,
  parseCacheControl,
  noCacheDirectives,
  type CacheControl,
  type CacheStatus,
} from './cache-control.ts';
export {
  builtInCacheRule,
  cachePolicyConfigSchema,
  cacheRuleSchema,
  decideCaching,
  defaultSemanticFallbackThreshold,
  ruleGuardSemanticFallbackThreshold,
  ruleGuardSemanticThreshold,
  defaultSemanticThreshold,
  isDeterministicRequest,
  parseCachePolicyConfig,
  resolveCacheRule,
  type CacheDecision,
  type CachePolicyConfig,
  type CacheRule,
  type ResolvedCacheRule,
} from './cache-policy.ts';
export {
  assembleChunks,
  replayChunks,
  toChatChunks,
  toChatResponse,
  type AvoidedCost,
  type CachedAnswer,
  type CacheEntry,
  type CacheOrigin,
} from './cached-answer.ts';
export {
  createMemoryCacheBackend,
  type CacheBackend,
  type MemoryCacheBackendOptions,
} from './cache-backend.ts';
export {
  createRedisCacheBackend,
  defaultMaxEntryBytes,
  type CacheStoreLogger,
  type RedisCacheBackend,
  type RedisCacheBackendOptions,
} from './redis-cache-backend.ts';
export {
  createExactCache,
  type CachePlan,
  type ExactCache,
  type ExactCacheHit,
  type ExactCacheOptions,
} from './exact-cache.ts';
export {
  createSingleFlight,
  type FlightKey,
  type FlightResult,
  type FlightStream,
  type SingleFlight,
} from './single-flight.ts';
export {
  createConceptNormalizer,
  defaultConcepts,
  type ConceptNormalizer,
  type ConceptNormalizerOptions,
  type ConceptTable,
} from './normalize-concepts.ts';
export {
  analyzeText,
  createPrecisionGuard,
  type GuardVerdict,
  type PrecisionGuard,
  type PrecisionGuardOptions,
  type RuleReason,
  type TextAnalysis,
} from './precision-guard.ts';
export {
  createDuplicateVerifier,
  pairFeatures,
  scoreFeatures,
  verifierFeatureNames,
  type DuplicateVerifier,
  type DuplicateVerifierOptions,
  type VerifierModel,
  type VerifierTreeNode,
} from './duplicate-verifier.ts';
export { cosineSimilarity, normalizeVector, type Embedder } from './embedder.ts';
export { createLocalEmbedder, type LocalEmbedder, type LocalEmbedderOptions } from './local-embedder.ts';
export {
  createProviderEmbedder,
  type EmbedFunction,
  type ProviderEmbedderOptions,
} from './provider-embedder.ts';
export {
  createVectorIndex,
  type VectorIndex,
  type VectorIndexOptions,
  type VectorNeighbour,
} from './vector-index.ts';
export {
  createSemanticCache,
  extractSemanticQuery,
  type SemanticCache,
  type SemanticCacheOptions,
  type SemanticCachePersistence,
  type SemanticCacheRecord,
  type SemanticHit,
  type SemanticMiss,
  type SemanticQuery,
  type SemanticSettings,
} from './semantic-cache.ts';
