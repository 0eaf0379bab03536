import { z } from 'zod';
import { parseWithSchema } from '../spec/index.ts';
import type { ChatRequest } from '../spec/index.ts';
import { maxTtlSeconds, type CacheControl } from './cache-control.ts';
import type { CacheScope } from './cache-key.ts';

/**
 * Cache rules. Resolution order, later wins: built-in defaults ← `defaults` ← `modelGroups[group]`
 * ← `stepTypes[stepType]`.
 *
 * The built-in default caches only requests whose answer is meant to be repeatable: an explicit
 * `temperature: 0` or a `seed`. A request with temperature > 0 (or none, which means the
 * provider's default of 1) and no seed asks for variety; serving it a stored answer would quietly
 * take that away, so it is not cached unless `cacheNonDeterministic` is set for its model group or
 * step type, or the request itself sends `ttl=<seconds>`.
 */
export const cacheRuleSchema = z.strictObject({
  /** Exact cache on or off. */
  enabled: z.boolean().optional(),
  /** Cache requests with temperature > 0 and no seed. */
  cacheNonDeterministic: z.boolean().optional(),
  /** Time to live of a stored answer. */
  ttlSeconds: z.number().int().min(1).max(maxTtlSeconds).optional(),
  /** Identical concurrent calls share one upstream call. */
  singleFlight: z.boolean().optional(),
  semantic: z
    .strictObject({
      enabled: z.boolean().optional(),
      /** Cosine similarity a neighbour needs to be served (0–1). */
      threshold: z.number().min(0).max(1).optional(),
      /** Refuse neighbours whose numbers, negations, names or key words differ. */
      guard: z.boolean().optional(),
      /** Also serve multi-turn conversations (the earlier turns must then match exactly). */
      multiTurn: z.boolean().optional(),
      /**
       * When every route fails with an outage (5xx, 429, open breakers, deadline), serve the
       * nearest neighbour the guard accepts at `fallbackThreshold`, marked degraded, instead of the error.
       */
      fallbackOnError: z.boolean().optional(),
      /** The similarity a neighbour needs to be served as a degraded answer (at most `threshold`). */
      fallbackThreshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
});

export const cachePolicyConfigSchema = z.strictObject({
  defaults: cacheRuleSchema.optional(),
  modelGroups: z.record(z.string(), cacheRuleSchema).optional(),
  stepTypes: z.record(z.string(), cacheRuleSchema).optional(),
});

export type CacheRule = z.infer<typeof cacheRuleSchema>;
export type CachePolicyConfig = z.infer<typeof cachePolicyConfigSchema>;

/** A rule with every field decided. */
export interface ResolvedCacheRule {
  enabled: boolean;
  cacheNonDeterministic: boolean;
  ttlSeconds: number;
  singleFlight: boolean;
  semantic: {
    enabled: boolean;
    threshold: number;
    guard: boolean;
    multiTurn: boolean;
    fallbackOnError: boolean;
    fallbackThreshold: number;
  };
}

/**
 * The cosine pre-filter in front of the learned duplicate verifier (duplicate-verifier.ts), which
 * then decides; chosen with it in bench/semantic-cache (bench/results/semantic-cache.md). With the
 * verifier as the guard, held-out STS-B precision is about 95% at about 16% recall: the target
 * (≥ 95% precision with ≥ 50% recall) is not met, so precision comes first and the semantic cache
 * stays off unless a model group or step type turns it on. Without the verifier (the rule guard
 * only), 0.85 gives about 72–74% precision; the rule guard reaches 95% only at 0.98.
 */
export const defaultSemanticThreshold = 0.85;

/**
 * The threshold when the embedder is a provider's: the learned verifier is calibrated on the local
 * model's similarities only, so provider embeddings are checked by the rule guard, which reaches
 * 95% precision on STS-B only at 0.98 (bench/results/semantic-cache.md).
 */
export const ruleGuardSemanticThreshold = 0.98;

/**
 * The similarity a neighbour needs to be served as a degraded answer (every route failed), checked
 * by the rule guard rather than the verifier: a close answer marked degraded beats an error. With
 * the local model on STS-B the rule guard is at 76% precision at 0.88 (bench/results/semantic-cache.md).
 */
export const defaultSemanticFallbackThreshold = 0.88;

/** The same for a provider's embeddings (rule guard; 84% precision at 0.92 with the local model). */
export const ruleGuardSemanticFallbackThreshold = 0.92;

/** What holds when nothing is configured. */
export const builtInCacheRule: ResolvedCacheRule = {
  enabled: true,
  cacheNonDeterministic: false,
  ttlSeconds: 3600,
  singleFlight: true,
  semantic: {
    enabled: false,
    threshold: defaultSemanticThreshold,
    guard: true,
    multiTurn: false,
    fallbackOnError: true,
    fallbackThreshold: defaultSemanticFallbackThreshold,
  },
};

/**
 * Validates a cache policy configuration; errors name the bad field (`modelGroups.fast.ttlSeconds`).
 *
 * @example
 * parseCachePolicyConfig({ modelGroups: { creative: { cacheNonDeterministic: true } } });
 */
export function parseCachePolicyConfig(value: unknown, prefix = 'cache'): CachePolicyConfig {
  return parseWithSchema(cachePolicyConfigSchema, value ?? {}, { prefix });
}

/**
 * The rule that applies to a scope.
 *
 * @example
 * resolveCacheRule({ stepTypes: { summarize: { ttlSeconds: 60 } } }, { stepType: 'summarize', modelGroup: 'fast' }).ttlSeconds; // 60
 */
export function resolveCacheRule(
  config: CachePolicyConfig,
  scope: Pick<CacheScope, 'stepType' | 'modelGroup'>,
): ResolvedCacheRule {
  const layers = [
    config.defaults,
    config.modelGroups?.[scope.modelGroup],
    config.stepTypes?.[scope.stepType],
  ];
  const rule: ResolvedCacheRule = { ...builtInCacheRule, semantic: { ...builtInCacheRule.semantic } };
  for (const layer of layers) {
    if (layer === undefined) continue;
    const { semantic, ...flat } = layer;
    Object.assign(rule, dropUndefined(flat));
    if (semantic !== undefined) Object.assign(rule.semantic, dropUndefined(semantic));
  }
  return rule;
}

/** What the cache does for one request. */
export interface CacheDecision {
  /** Look up a stored answer (exact, then semantic when `semantic`). */
  read: boolean;
  /** Use the semantic cache for the lookup and the store. */
  semantic: boolean;
  /** Store the fresh answer. */
  write: boolean;
  /** Join an identical call in flight instead of calling upstream. */
  joinInFlight: boolean;
  ttlMs: number;
  /** Why the cache is bypassed or partly skipped, for logs and the status header. */
  reason: string;
}

/**
 * True when the request asks for a repeatable answer: explicit temperature 0, or a seed.
 *
 * @example
 * isDeterministicRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 }); // true
 */
export function isDeterministicRequest(request: ChatRequest): boolean {
  return request.temperature === 0 || (request.seed !== undefined && request.seed !== null);
}

/**
 * Decides what the cache does for a request under a rule and the request's own directives.
 *
 * @example
 * decideCaching(request, resolveCacheRule({}, scope), parseCacheControl('no-store')).write; // false
 */
export function decideCaching(
  request: ChatRequest,
  rule: ResolvedCacheRule,
  control: CacheControl,
): CacheDecision {
  const ttlSeconds = control.ttlSeconds ?? rule.ttlSeconds;
  const ttlMs = ttlSeconds * 1000;
  if (!rule.enabled) {
    // Sharing one in-flight call hands every caller the same answer: only for repeatable requests.
    const joinInFlight = rule.singleFlight && (isDeterministicRequest(request) || rule.cacheNonDeterministic);
    return {
      read: false,
      semantic: false,
      write: false,
      joinInFlight,
      ttlMs,
      reason: 'cache disabled for this model group or step type',
    };
  }
  const optedIn = control.ttlSeconds !== undefined;
  if (!isDeterministicRequest(request) && !rule.cacheNonDeterministic && !optedIn) {
    // Sharing one in-flight call would also hand two callers the same sampled answer.
    return {
      read: false,
      semantic: false,
      write: false,
      joinInFlight: false,
      ttlMs,
      reason: 'temperature > 0 without a seed is not cached by default',
    };
  }
  const read = !control.noCache && !control.forceRefresh;
  const write = !control.noStore;
  const reasons: string[] = [];
  if (!read) reasons.push(control.forceRefresh ? 'force-refresh' : 'no-cache');
  if (!write) reasons.push('no-store');
  return {
    read,
    semantic: rule.semantic.enabled && read,
    write,
    joinInFlight: rule.singleFlight && !control.forceRefresh,
    ttlMs,
    reason: reasons.join(', '),
  };
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
