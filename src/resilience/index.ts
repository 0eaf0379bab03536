/**
 * Resilience: retries with backoff, deadlines and stream timeouts, circuit breakers, bulkheads
 * and load balancing. The engine's call pipeline composes them; each module is usable alone.
 */
export {
  decideRetry,
  computeBackoffMs,
  isRetryableOnSameDeployment,
  defaultRetryPolicy,
  type RetryPolicy,
  type RetryDecision,
} from './retry-policy.ts';
export {
  createDeadline,
  createAttemptGuard,
  createDeadlineExceededError,
  deadlineOperations,
  defaultDeadlines,
  maxDeadlineMs,
  type DeadlineOperation,
  type Deadline,
  type AttemptGuard,
  type AttemptTimeouts,
  type CreateDeadlineOptions,
} from './deadline.ts';
export {
  createCircuitBreakers,
  countsAgainstDeployment,
  defaultBreakerPolicy,
  circuitStates,
  maxHonouredPauseMs,
  type CircuitBreakers,
  type CircuitState,
  type BreakerPolicy,
  type BreakerSnapshot,
  type BreakerTransition,
  type BreakerAdmission,
} from './circuit-breaker.ts';
export { createBulkhead, createOverloadedError, type Bulkhead } from './bulkhead.ts';
export { createCredentialsRefusedError } from './circuit-breaker.ts';
export {
  orderDeployments,
  createDeploymentStats,
  balancingStrategies,
  type BalancingStrategy,
  type DeploymentStats,
} from './load-balancer.ts';
export {
  createResilience,
  type Resilience,
  type ResilienceOptions,
  type AttemptPolicy,
  type PolicyOverride,
} from './create-resilience.ts';
export {
  createRateLimiter,
  createMemoryRateLimitStore,
  createRateLimitedError,
  estimateRequestTokens,
  type RateLimiter,
  type RateLimitStore,
  type RateLimits,
  type RateLimitReservation,
  type RateLimitWait,
} from './rate-limiter.ts';
export { createRedisRateLimitStore } from './redis-rate-limit-store.ts';
export { readRateLimitPause } from './read-rate-limit-pause.ts';
export { createFairQueue, type FairQueue, type FairQueueBounds } from './fair-queue.ts';
export {
  createFallbackRateLimitStore,
  createSharedRateLimitStore,
  type SharedRateLimitStore,
  type SharedRateLimitStoreOptions,
  type StoreLogger,
} from './create-shared-rate-limit-store.ts';
