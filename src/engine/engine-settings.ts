import type { CacheRule } from '../cache/index.ts';
import type { Deployment } from '../providers/index.ts';
import type {
  AttemptTimeouts,
  BalancingStrategy,
  BreakerPolicy,
  DeadlineOperation,
  PolicyOverride,
  RateLimits,
  RetryPolicy,
} from '../resilience/index.ts';
import type { ModelPrice } from '../telemetry/index.ts';

/**
 * What the engine is built from: typed, validated settings. The engine never reads the YAML
 * schema; `config/` turns `pipewright.yaml` into these (and the library's `createEngine` parses
 * a raw config object the same way before building the engine).
 */
export interface EngineSettings {
  /** The tenant of library calls that name none. */
  readonly defaultTenant: string;
  readonly deployments: readonly DeploymentSettings[];
  readonly modelGroups: readonly ModelGroupSettings[];
  readonly stepTypes: readonly StepTypeSettings[];
  readonly resilience: ResilienceSettings;
  readonly cache: CacheSettings;
}

/** Optional fields that may also hold `undefined` (as parsed configuration does). */
type Loose<T> = { [Key in keyof T]: undefined extends T[Key] ? T[Key] | undefined : T[Key] };

/** A deployment: where to send calls (the provider's part) and our policies for it. */
export interface DeploymentSettings extends Loose<Deployment> {
  /** Price override in USD per million tokens; otherwise the maintained catalog is used. */
  price?: PolicyOverride<ModelPrice> | undefined;
  weight?: number | undefined;
  maxInFlight?: number | undefined;
  limits?: RateLimits | undefined;
  retry?: PolicyOverride<RetryPolicy> | undefined;
  timeouts?: PolicyOverride<AttemptTimeouts> | undefined;
  breaker?: PolicyOverride<BreakerPolicy> | undefined;
}

export interface ModelGroupSettings {
  name: string;
  description?: string | undefined;
  deployments: readonly string[];
  strategy?: BalancingStrategy | undefined;
  fallbacks?: readonly string[] | undefined;
  contextLengthFallback?: string | undefined;
  contentFilterFallback?: string | undefined;
}

/** A step type written as data (YAML): templates for the prompt, JSON Schema for the output. */
export interface StepTypeSettings {
  name: string;
  modelGroup: string;
  description?: string | undefined;
  system?: string | undefined;
  prompt: string;
  outputSchema?: Record<string, unknown> | undefined;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  deadlineMs?: number | undefined;
  retry?: PolicyOverride<RetryPolicy> | undefined;
  timeouts?: PolicyOverride<AttemptTimeouts> | undefined;
}

export interface ResilienceSettings {
  /** One deadline for every operation, or some operations' own. */
  deadlineMs?: number | PolicyOverride<Record<DeadlineOperation, number>> | undefined;
  connectTimeoutMs: number;
  retry?: PolicyOverride<RetryPolicy> | undefined;
  timeouts?: PolicyOverride<AttemptTimeouts> | undefined;
  breaker?: PolicyOverride<BreakerPolicy> | undefined;
  maxInFlightPerTenant?: number | undefined;
  tenantLimits?: RateLimits | undefined;
  overflow: 'queue' | 'reject';
  maxQueueMs: number;
  waitForRecoveryMs: number;
}

/** The caches of chat calls: the default rule, per-group and per-step overrides, bounds and the semantic index. */
export interface CacheSettings {
  enabled: boolean;
  backend: 'memory' | 'redis';
  maxBytes: number;
  maxBytesPerTenant?: number | undefined;
  ttlSeconds: number;
  cacheNonDeterministic: boolean;
  singleFlight: boolean;
  semantic: SemanticCacheSettings;
  modelGroups: Readonly<Record<string, CacheRule>>;
  stepTypes: Readonly<Record<string, CacheRule>>;
}

/** The semantic cache's default rule, plus its embedder and index bounds. */
export type SemanticCacheSettings = NonNullable<CacheRule['semantic']> & {
  /** `local` (Universal Sentence Encoder, offline) or a model group that serves embeddings. */
  embedder: 'local' | { modelGroup: string };
  embedTimeoutMs: number;
  maxEntries: number;
  maxEntriesPerNamespace: number;
  maxEntriesPerTenant?: number | undefined;
};
