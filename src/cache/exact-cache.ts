import type { Clock } from '../core/index.ts';
import type { ChatRequest } from '../spec/index.ts';
import type { CacheBackend } from './cache-backend.ts';
import type { CacheControl } from './cache-control.ts';
import { createCacheKey, type CacheScope } from './cache-key.ts';
import {
  decideCaching,
  parseCachePolicyConfig,
  resolveCacheRule,
  type CacheDecision,
  type CachePolicyConfig,
  type ResolvedCacheRule,
} from './cache-policy.ts';
import type { AvoidedCost, CachedAnswer, CacheEntry, CacheOrigin } from './cached-answer.ts';

/** Bound of the resolved-rule memo (step type names come from callers; keep it from growing without end). */
const maxResolvedRules = 10_000;

/** A request's cache plan: its key, the rule that applies and what the cache will do. */
export interface CachePlan {
  scope: CacheScope;
  /** Empty when the plan neither reads, writes nor joins a flight: no hashing for a bypass. */
  key: string;
  rule: ResolvedCacheRule;
  decision: CacheDecision;
}

export interface ExactCacheHit {
  key: string;
  entry: CacheEntry;
  /** How old the stored answer is, in milliseconds. */
  ageMs: number;
}

export interface ExactCache {
  /** Computes the key and decides, from the policy and the request's directives, what to do. */
  plan(scope: CacheScope, request: ChatRequest, control: CacheControl): CachePlan;
  /** A stored answer for the plan, or undefined (always undefined when the plan does not read). */
  lookup(plan: CachePlan): Promise<ExactCacheHit | undefined>;
  /** Stores a fresh answer when the plan writes; `avoided` is what a later hit will save. */
  store(plan: CachePlan, answer: CachedAnswer, avoided: AvoidedCost, origin?: CacheOrigin): Promise<boolean>;
  /** Drops the plan's entry (force-refresh does this before calling upstream). */
  invalidate(plan: CachePlan): Promise<void>;
}

export interface ExactCacheOptions {
  backend: CacheBackend;
  clock: Clock;
  /** Which requests are cached, per model group and step type (see cache-policy.ts). */
  policy?: CachePolicyConfig;
}

/**
 * The exact cache: an answer is served again only to the same tenant, step type, model group and
 * configuration, for a request identical in every field that changes the answer.
 *
 * @example
 * const cache = createExactCache({ backend: createMemoryCacheBackend({ maxBytes: 1 << 26, clock }), clock });
 * const plan = cache.plan(scope, request, parseCacheControl(headers['x-pipewright-cache-control']));
 * const hit = await cache.lookup(plan);
 * if (hit === undefined) await cache.store(plan, { kind: 'response', response }, { costUsd: 0.002, latencyMs: 840 });
 */
export function createExactCache(options: ExactCacheOptions): ExactCache {
  const { backend, clock } = options;
  const policy = parseCachePolicyConfig(options.policy ?? {});
  // The policy is fixed for the cache's life: resolve each (model group, step type) once, off the hot path.
  const rules = new Map<string, ResolvedCacheRule>();
  const ruleFor = (scope: CacheScope): ResolvedCacheRule => {
    const id = `${scope.modelGroup}\u0001${scope.stepType}`;
    let rule = rules.get(id);
    if (rule === undefined) {
      if (rules.size >= maxResolvedRules) rules.clear();
      rule = resolveCacheRule(policy, scope);
      rules.set(id, rule);
    }
    return rule;
  };
  return {
    plan: (scope, request, control) => {
      const rule = ruleFor(scope);
      const decision = decideCaching(request, rule, control);
      // A bypass (for example temperature > 0 without a seed) costs no hashing on the hot path.
      const needsKey = decision.read || decision.write || decision.joinInFlight;
      return { scope, key: needsKey ? createCacheKey(scope, request) : '', rule, decision };
    },
    lookup: async (plan) => {
      if (!plan.decision.read || plan.key === '') return undefined;
      const entry = await backend.get(plan.key);
      // The tenant is in the key already; checking it again costs nothing and guards a shared backend.
      if (entry === undefined || entry.tenant !== plan.scope.tenant) return undefined;
      const now = clock.now();
      if (entry.expiresAt <= now) return undefined;
      return { key: plan.key, entry, ageMs: Math.max(0, now - entry.createdAt) };
    },
    store: async (plan, answer, avoided, origin) => {
      if (!plan.decision.write || plan.key === '') return false;
      const now = clock.now();
      const entry: CacheEntry = {
        answer,
        createdAt: now,
        expiresAt: now + plan.decision.ttlMs,
        tenant: plan.scope.tenant,
        avoided,
      };
      if (origin !== undefined) entry.origin = origin;
      await backend.set(plan.key, entry);
      return true;
    },
    invalidate: async (plan) => {
      if (plan.key === '') return;
      await backend.delete(plan.key);
    },
  };
}
