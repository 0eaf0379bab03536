import { InvalidRequestError, type Clock } from '../core/index.ts';
import { createBulkhead, type Bulkhead } from './bulkhead.ts';
import {
  createCircuitBreakers,
  defaultBreakerPolicy,
  type BreakerPolicy,
  type BreakerSnapshot,
  type BreakerTransition,
  type CircuitBreakers,
} from './circuit-breaker.ts';
import { defaultDeadlines, maxDeadlineMs, type AttemptTimeouts, type DeadlineOperation } from './deadline.ts';
import { createDeploymentStats, type DeploymentStats } from './load-balancer.ts';
import { readRateLimitPause } from './read-rate-limit-pause.ts';
import {
  createMemoryRateLimitStore,
  createRateLimiter,
  type RateLimiter,
  type RateLimits,
  type RateLimitStore,
} from './rate-limiter.ts';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy.ts';

/** An override: any subset of the fields (undefined means "inherit"). */
export type PolicyOverride<T> = { [K in keyof T]?: T[K] | undefined };

/** The policies one attempt runs under. */
export interface AttemptPolicy {
  retry: RetryPolicy;
  timeouts: AttemptTimeouts;
}

export interface ResilienceOptions {
  clock: Clock;
  /** Jitter and weighted choice; injected so tests are deterministic. Default Math.random. */
  random?: () => number;
  /** Every breaker transition (wire it to the log). */
  onTransition?: ((transition: BreakerTransition) => void) | undefined;
  defaults?: {
    retry?: PolicyOverride<RetryPolicy> | undefined;
    timeouts?: PolicyOverride<AttemptTimeouts> | undefined;
    breaker?: PolicyOverride<BreakerPolicy> | undefined;
    /** One deadline for every operation, or some operations' own; the rest keep `defaultDeadlines`. */
    deadlineMs?: number | PolicyOverride<Record<DeadlineOperation, number>> | undefined;
  };
  deployments?: ReadonlyArray<{
    id: string;
    /** Changes when the key, URL or headers change: lifts a 401/403 exclusion. */
    configHash: string;
    weight?: number | undefined;
    maxInFlight?: number | undefined;
    /** Our own requests/tokens per minute for this deployment. */
    limits?: RateLimits | undefined;
    retry?: PolicyOverride<RetryPolicy> | undefined;
    timeouts?: PolicyOverride<AttemptTimeouts> | undefined;
    breaker?: PolicyOverride<BreakerPolicy> | undefined;
  }>;
  stepTypes?: ReadonlyArray<{
    name: string;
    deadlineMs?: number | undefined;
    retry?: PolicyOverride<RetryPolicy> | undefined;
    timeouts?: PolicyOverride<AttemptTimeouts> | undefined;
  }>;
  tenants?: {
    maxInFlight?: number | undefined;
    limits?: RateLimits | undefined;
    overflow?: 'queue' | 'reject' | undefined;
    maxQueueMs?: number | undefined;
  };
  /** Where rate-limit counters live; in memory by default (a Redis store shares them across replicas). */
  rateLimitStore?: RateLimitStore | undefined;
  /** When every deployment's breaker is open, wait this long at most for the first to half-open. Default 30 s. */
  waitForRecoveryMs?: number | undefined;
}

/** The resilience state of one engine: breakers, bulkheads, live stats and resolved policies. */
export interface Resilience {
  readonly clock: Clock;
  readonly random: () => number;
  readonly breakers: CircuitBreakers;
  readonly bulkhead: Bulkhead;
  readonly stats: DeploymentStats;
  readonly rateLimiter: RateLimiter;
  readonly waitForRecoveryMs: number;
  readonly tenants: {
    maxInFlight: number | undefined;
    limits: RateLimits | undefined;
    overflow: 'queue' | 'reject';
    maxQueueMs: number;
  };
  /** The retry and timeout policy of one deployment, for one step type (step type wins over deployment, deployment over defaults). */
  policyFor(deployment: string, stepType: string | undefined): AttemptPolicy;
  /**
   * The deadline of one call: the call's own, else the step type's, else the configured default
   * of its operation, else `defaultDeadlines`. Every call has one. A call's own deadline that is
   * not a whole number of ms between 1 and `maxDeadlineMs` is a 400 naming `deadlineMs`.
   */
  deadlineFor(
    stepType: string | undefined,
    requestedMs: number | undefined,
    operation: DeadlineOperation,
  ): number;
  /**
   * The deadline the caller chose itself (the call's, or its step type's), undefined when only a
   * default applies. Only a caller's own deadline lets a call wait for an open or resting
   * deployment to come back; without one it fails at once with a retry-after.
   */
  callerDeadlineFor(stepType: string | undefined, requestedMs: number | undefined): number | undefined;
  weightOf(deployment: string): number;
  maxInFlightOf(deployment: string): number | undefined;
  /** The deployment's own rate limits, undefined when it has none. */
  limitsOf(deployment: string): RateLimits | undefined;
  /** Reads a successful response's rate-limit headers: a limit with nothing left rests the deployment until it resets. */
  observeHeaders(deployment: string, headers: Readonly<Record<string, string>>): void;
  snapshot(): BreakerSnapshot[];
}

/**
 * Builds the resilience runtime from plain options (the engine maps its config here). Policies
 * are merged once and cached per (step type, deployment), so the hot path is two Map lookups.
 *
 * @example
 * const resilience = createResilience({ clock, defaults: { retry: { maxAttempts: 2 } }, deployments: [{ id: 'gpt-eu', configHash: 'abc', maxInFlight: 50 }] });
 * resilience.policyFor('gpt-eu', undefined).retry.maxAttempts; // 2
 */
export function createResilience(options: ResilienceOptions): Resilience {
  const { clock } = options;
  const defaults = options.defaults ?? {};
  const baseRetry = merge(defaultRetryPolicy, defaults.retry);
  const baseTimeouts = merge<AttemptTimeouts>({}, defaults.timeouts);
  const baseBreaker = merge(defaultBreakerPolicy, defaults.breaker);
  const breakers = createCircuitBreakers({ clock, onTransition: options.onTransition });
  const deployments = new Map((options.deployments ?? []).map((deployment) => [deployment.id, deployment]));
  for (const deployment of deployments.values())
    breakers.register(deployment.id, merge(baseBreaker, deployment.breaker), deployment.configHash);
  const stepTypes = new Map((options.stepTypes ?? []).map((stepType) => [stepType.name, stepType]));
  const cache = new Map<string | undefined, Map<string, AttemptPolicy>>();
  const configuredDeadlines: Record<DeadlineOperation, number> =
    typeof defaults.deadlineMs === 'number'
      ? {
          chat: defaults.deadlineMs,
          chatStream: defaults.deadlineMs,
          embeddings: defaults.deadlineMs,
          images: defaults.deadlineMs,
        }
      : merge(defaultDeadlines, defaults.deadlineMs);

  function resolve(deploymentId: string, stepType: string | undefined): AttemptPolicy {
    const deployment = deployments.get(deploymentId);
    const step = stepType === undefined ? undefined : stepTypes.get(stepType);
    return {
      retry: merge(merge(baseRetry, deployment?.retry), step?.retry),
      timeouts: merge(merge(baseTimeouts, deployment?.timeouts), step?.timeouts),
    };
  }

  return {
    clock,
    random: options.random ?? Math.random,
    breakers,
    bulkhead: createBulkhead({ clock }),
    stats: createDeploymentStats(),
    rateLimiter: createRateLimiter({
      clock,
      store: options.rateLimitStore ?? createMemoryRateLimitStore({ clock }),
    }),
    waitForRecoveryMs: options.waitForRecoveryMs ?? 30_000,
    tenants: {
      maxInFlight: options.tenants?.maxInFlight,
      limits: hasLimits(options.tenants?.limits) ? options.tenants?.limits : undefined,
      overflow: options.tenants?.overflow ?? 'queue',
      maxQueueMs: options.tenants?.maxQueueMs ?? 10_000,
    },
    policyFor(deploymentId, stepType) {
      let byDeployment = cache.get(stepType);
      if (byDeployment === undefined) {
        byDeployment = new Map();
        cache.set(stepType, byDeployment);
      }
      let policy = byDeployment.get(deploymentId);
      if (policy === undefined) {
        policy = resolve(deploymentId, stepType);
        byDeployment.set(deploymentId, policy);
      }
      return policy;
    },
    deadlineFor(stepType, requestedMs, operation) {
      if (requestedMs !== undefined) return checkRequestedDeadline(requestedMs);
      const step = stepType === undefined ? undefined : stepTypes.get(stepType);
      return step?.deadlineMs ?? configuredDeadlines[operation];
    },
    callerDeadlineFor(stepType, requestedMs) {
      if (requestedMs !== undefined) return checkRequestedDeadline(requestedMs);
      return stepType === undefined ? undefined : stepTypes.get(stepType)?.deadlineMs;
    },
    weightOf: (deployment) => deployments.get(deployment)?.weight ?? 1,
    maxInFlightOf: (deployment) => deployments.get(deployment)?.maxInFlight,
    limitsOf: (deployment) => {
      const limits = deployments.get(deployment)?.limits;
      return hasLimits(limits) ? limits : undefined;
    },
    observeHeaders(deployment, headers) {
      const pause = readRateLimitPause(headers, clock.now());
      if (pause !== undefined && pause.pauseMs > 0)
        breakers.pause(
          deployment,
          pause.pauseMs,
          `${pause.header}: 0, resting until the provider's limit resets`,
        );
    },
    snapshot: () => breakers.snapshot(),
  };
}

/** `base` with the defined fields of `override` on top. */
function merge<T extends object>(base: T, override: PolicyOverride<T> | undefined): T {
  if (override === undefined) return base;
  const out = { ...base };
  for (const key of Object.keys(override) as Array<keyof T>) {
    const value = override[key];
    if (value !== undefined) out[key] = value as T[keyof T];
  }
  return out;
}

function checkRequestedDeadline(requestedMs: number): number {
  if (Number.isInteger(requestedMs) && requestedMs >= 1 && requestedMs <= maxDeadlineMs) return requestedMs;
  throw new InvalidRequestError({
    message: `deadlineMs must be a whole number of milliseconds between 1 and ${maxDeadlineMs}, not ${String(requestedMs)}`,
    param: 'deadlineMs',
  });
}

function hasLimits(limits: RateLimits | undefined): limits is RateLimits {
  return (
    limits !== undefined && (limits.requestsPerMinute !== undefined || limits.tokensPerMinute !== undefined)
  );
}
