import { PipewrightError, ProviderError, toPipewrightError, type Clock } from '../core/index.ts';
import type { Deployment } from '../providers/index.ts';
import {
  createAttemptGuard,
  createDeadlineExceededError,
  createOverloadedError,
  createRateLimitedError,
  decideRetry,
  isRetryableOnSameDeployment,
  orderDeployments,
  type AttemptGuard,
  type BreakerAdmission,
  type Deadline,
  type RateLimitReservation,
  type RateLimits,
  type Resilience,
} from '../resilience/index.ts';
import type { CallAttempt, EngineCallOptions } from './engine-types.ts';
import type { ModelCatalog, ModelGroup } from './model-catalog.ts';

/** What the attempt loop needs of a call: its tenant, model group, deadline, options and token estimate. */
export interface AttemptScope {
  /** Rate-limit queues take turns fairly between tenants. */
  tenantId: string;
  group: ModelGroup;
  options: EngineCallOptions;
  deadline: Deadline;
  /**
   * The deadline the caller asked for itself (`x-pipewright-timeout-ms`, the `deadlineMs` option),
   * undefined when none. With it (or a step type's deadline) a call may wait for an open or resting
   * deployment to come back; without, it fails at once with a retry-after.
   */
  requestedDeadlineMs: number | undefined;
  /** Tokens this call is expected to use, for rate limits (computed only when a limit applies). */
  estimateTokens: () => number;
}

/** A deployment skipped because it rests at its provider's request, and for how much longer. */
interface RestingSkip {
  deployment: Deployment;
  retryInMs: number;
  reason: string;
}

/** How an admitted attempt ended, for the breaker and the bulkhead. */
export type Settlement =
  | { outcome: 'success'; latencyMs: number; tokens: number }
  | { outcome: 'failure'; error: PipewrightError }
  | { outcome: 'neutral' };

/** A call that a deployment answered: the value, and the hook that settles its breaker and slots. */
export interface Answered<T> {
  value: T;
  deployment: Deployment;
  attempts: CallAttempt[];
  upstreamMs: number;
  guard: AttemptGuard;
  settle(settlement: Settlement): void;
}

/** One try of one deployment. Streams resolve once their first content chunk arrived (or they ended). */
export type AttemptCall<T> = (deployment: Deployment, guard: AttemptGuard) => Promise<T>;

export interface AttemptLoopDependencies {
  catalog: ModelCatalog;
  clock: Clock;
  resilience: Resilience;
}

/**
 * The attempt loop of the call pipeline: which deployment to try next, and when to retry, wait,
 * fall back or give up. `execute` returns once a deployment answered; the caller settles it.
 */
// eslint-disable-next-line max-lines-per-function -- its length is execute (295 lines, below); TODO(issue 9): split by the resilience owner
export function createAttemptLoop(dependencies: AttemptLoopDependencies) {
  const { catalog, clock, resilience } = dependencies;
  const { breakers, bulkhead, stats } = resilience;
  const balancing = {
    stats,
    random: resilience.random,
    weightOf: (deployment: Deployment) => resilience.weightOf(deployment.id),
  };

  /** The failure of an attempt, as the caller will see it: the deadline and the caller's abort win. */
  function attemptError(scope: AttemptScope, caught: unknown, deployment: Deployment): PipewrightError {
    if (scope.deadline.expired()) return createDeadlineExceededError(scope.deadline.timeoutMs, caught);
    if (
      scope.options.signal?.aborted === true &&
      !(ProviderError.isProviderError(caught) && caught.kind === 'aborted')
    ) {
      return new ProviderError({
        kind: 'aborted',
        message: 'the caller aborted the call',
        provider: deployment.provider,
        deployment: deployment.id,
        cause: caught,
      });
    }
    return ProviderError.isProviderError(caught)
      ? caught.withDeployment(deployment.id)
      : toPipewrightError(caught);
  }

  /**
   * Tries deployments until one answers. Per group: the balancer's order, skipping open breakers
   * and full deployments; per deployment: retries of transient errors with backoff (honouring
   * retry-after, never past the deadline). Then, by the last error's class: a larger context
   * window (the same group's bigger deployments, then `contextLengthFallback`), the content-filter
   * alternative, or the group's `fallbacks`. Errors about the request itself stop at once.
   * When every deployment was skipped for an open breaker, waits for the first to half-open if
   * that fits in the deadline.
   */
  // eslint-disable-next-line max-lines-per-function -- TODO(issue 9): split by the resilience owner
  async function execute<T>(
    scope: AttemptScope,
    streaming: boolean,
    call: AttemptCall<T>,
    onLastDeployment: (deployment: Deployment) => void,
  ): Promise<Answered<T>> {
    const attempts: CallAttempt[] = [];
    const { deadline } = scope;
    let upstreamMs = 0;
    let lastError: PipewrightError | undefined;
    let group: ModelGroup | undefined = scope.group;
    let visited: Set<string> | undefined;
    let genericFallbacks = 0;
    let waitedMs = 0;
    let passes = 0;
    /** Deployments that failed this request with an error retrying cannot fix: never called again for it. */
    let doneWith: Set<string> | undefined;
    /** Why the last skipped deployment's breaker was open, for the error message. */
    let openReason: string | undefined;
    /** After a context-length error: only deployments with a window known to be larger than this. */
    let minimumWindow: number | undefined;
    /** The group where the prompt was found too long, if it was. */
    let contextExceededIn: string | undefined;
    /** Every skipped deployment was out for a refused key: surface that (401/403), not a 503. */
    let refusal: PipewrightError | null | undefined;
    /** Only the caller's own deadline lets it wait for a deployment that is out (open, or resting for a 429). */
    const waitsForRecovery =
      resilience.callerDeadlineFor(scope.options.stepType, scope.requestedDeadlineMs) !== undefined;
    /** Every deployment skipped in this pass was resting because its provider said so (null: not all). */
    let resting: RestingSkip | null | undefined;
    /** The soonest a skipped deployment takes calls again: the retry-after of a circuit_open error. */
    let soonestBackMs: number | null = null;
    /** The rate-limited deployment to wait for in its fair queue, and the room taken there for the next pass. */
    let queuedTurn:
      { deployment: string; subject: string; limits: RateLimits; retryInMs: number } | undefined;
    let heldTurn: { deployment: string; reservation: RateLimitReservation } | undefined;

    const fail = (error: PipewrightError): never => {
      heldTurn?.reservation.cancel();
      throw withAttempts(error, attempts);
    };

    while (group !== undefined) {
      const candidates = orderDeployments(group.deployments, group.strategy, balancing);
      let soonestRecoveryMs: number | null = null;
      let stopGroup = false;
      passes += 1;
      queuedTurn = undefined;
      resting = undefined;
      soonestBackMs = null;
      /** A deployment is out (breaker open, half-open with its probe out, resting): note when it is back. */
      const noteOut = (deployment: Deployment, admission: Extract<BreakerAdmission, { admitted: false }>) => {
        if (admission.paused === true && admission.retryInMs !== null) {
          if (resting !== null && (resting === undefined || admission.retryInMs < resting.retryInMs))
            resting = { deployment, retryInMs: admission.retryInMs, reason: admission.reason };
        } else resting = null;
        if (admission.retryInMs === null) return;
        soonestBackMs =
          soonestBackMs === null ? admission.retryInMs : Math.min(soonestBackMs, admission.retryInMs);
        if (waitsForRecovery)
          soonestRecoveryMs =
            soonestRecoveryMs === null
              ? admission.retryInMs
              : Math.min(soonestRecoveryMs, admission.retryInMs);
      };
      for (const deployment of candidates) {
        if (stopGroup) break;
        if (doneWith?.has(deployment.id) === true) continue;
        if (contextExceededIn !== undefined) {
          const window = deployment.contextWindow;
          const larger = window !== undefined && (minimumWindow === undefined || window > minimumWindow);
          // Only a larger known window can help within the same group; in a fallback group an unknown one may.
          if (!larger && (group.name === contextExceededIn || window !== undefined)) continue;
        }
        let admission = breakers.admit(deployment.id);
        if (!admission.admitted) {
          openReason = `${deployment.id}: ${admission.reason}`;
          refusal = refusal === undefined || refusal !== null ? (admission.refusal ?? null) : null;
          // One entry per deployment skipped in a row: waiting passes do not repeat it.
          const previous = attempts.at(-1);
          if (previous?.deployment !== deployment.id || previous.errorCode !== 'gateway.circuit_open')
            attempts.push(skipped(deployment, group.name, 'gateway.circuit_open'));
          noteOut(deployment, admission);
          continue;
        }
        const slotLimit = resilience.maxInFlightOf(deployment.id);
        const slotKey = slotLimit === undefined ? null : `deployment:${deployment.id}`;
        if (slotKey !== null && slotLimit !== undefined && !bulkhead.tryAcquire(slotKey, slotLimit)) {
          breakers.release(deployment.id, admission.probe);
          attempts.push(skipped(deployment, group.name, 'gateway.overloaded'));
          lastError = createOverloadedError(slotKey, slotLimit);
          continue;
        }
        onLastDeployment(deployment);
        const policy = resilience.policyFor(deployment.id, scope.options.stepType);
        const limits = resilience.limitsOf(deployment.id);
        for (let tries = 1; ; tries++) {
          let reservation: RateLimitReservation | null = null;
          if (heldTurn?.deployment === deployment.id) {
            reservation = heldTurn.reservation;
            heldTurn = undefined;
          } else if (limits !== undefined) {
            const subject = `deployment:${deployment.id}`;
            const taken = await resilience.rateLimiter.tryAcquire(subject, limits, scope.estimateTokens());
            if (taken.reservation === null) {
              breakers.release(deployment.id, admission.probe);
              attempts.push(skipped(deployment, group.name, 'gateway.rate_limited'));
              if (tries === 1) lastError = createRateLimitedError(subject, taken.retryInMs);
              // Queue mode: come back when there is room, if that fits in the deadline.
              if (resilience.tenants.overflow === 'queue' && Number.isFinite(taken.retryInMs)) {
                soonestRecoveryMs =
                  soonestRecoveryMs === null ? taken.retryInMs : Math.min(soonestRecoveryMs, taken.retryInMs);
                if (queuedTurn === undefined || taken.retryInMs < queuedTurn.retryInMs)
                  queuedTurn = { deployment: deployment.id, subject, limits, retryInMs: taken.retryInMs };
              }
              break;
            }
            reservation = taken.reservation;
          }
          const attemptStart = clock.monotonic();
          const guard = createAttemptGuard({
            clock,
            deadline,
            timeouts: policy.timeouts,
            streaming,
            provider: deployment.provider,
            deployment: deployment.id,
          });
          stats.begin(deployment.id);
          try {
            const value = await call(deployment, guard);
            const durationMs = clock.monotonic() - attemptStart;
            upstreamMs += durationMs;
            attempts.push({
              deployment: deployment.id,
              provider: deployment.provider,
              modelGroup: group.name,
              errorCode: null,
              errorKind: null,
              durationMs,
              retry: tries > 1,
            });
            const probe = admission.probe;
            heldTurn?.reservation.cancel();
            let settled = false;
            return {
              value,
              deployment,
              attempts,
              upstreamMs,
              guard,
              settle(settlement) {
                if (settled) return;
                settled = true;
                guard.dispose();
                stats.end(deployment.id);
                if (slotKey !== null) bulkhead.release(slotKey);
                reservation?.settle(settlement.outcome === 'success' ? settlement.tokens : 0);
                if (settlement.outcome === 'success') {
                  stats.observeLatency(deployment.id, settlement.latencyMs);
                  breakers.recordSuccess(deployment.id, probe);
                } else if (settlement.outcome === 'failure') {
                  breakers.recordFailure(deployment.id, settlement.error, probe);
                } else {
                  breakers.release(deployment.id, probe);
                }
              },
            };
          } catch (caught) {
            guard.dispose();
            stats.end(deployment.id);
            reservation?.settle(0);
            const durationMs = clock.monotonic() - attemptStart;
            upstreamMs += durationMs;
            const error = attemptError(scope, caught, deployment);
            attempts.push({
              deployment: deployment.id,
              provider: deployment.provider,
              modelGroup: group.name,
              errorCode: error.code,
              errorKind: ProviderError.isProviderError(error) ? error.kind : null,
              durationMs,
              retry: tries > 1,
            });
            lastError = error;
            if (!ProviderError.isProviderError(error) || error.kind === 'aborted') {
              // The deadline or the caller ended the call, or the operation cannot work here at all
              // (unsupported, a bug): nothing to learn about the deployment, nothing to retry.
              breakers.release(deployment.id, admission.probe);
              if (slotKey !== null) bulkhead.release(slotKey);
              return fail(error);
            }
            breakers.recordFailure(deployment.id, error, admission.probe);
            // This failure opened the breaker: no backoff before moving on (a rest the provider
            // asked for is still waited for below, as its retry-after).
            if (breakers.state(deployment.id) === 'open') {
              const out = breakers.admit(deployment.id);
              if (!out.admitted && out.paused !== true) {
                noteOut(deployment, out);
                break;
              }
            }
            const decision = decideRetry(
              policy.retry,
              error,
              tries,
              deadline.remainingMs(),
              resilience.random,
            );
            if (!decision.retry) break;
            const waitStart = clock.monotonic();
            try {
              await clock.sleep(decision.delayMs, deadline.signal);
            } catch (aborted) {
              if (slotKey !== null) bulkhead.release(slotKey);
              return fail(attemptError(scope, aborted, deployment));
            }
            upstreamMs += clock.monotonic() - waitStart;
            // The failure just counted may have opened the breaker: then move on (and maybe come back).
            admission = breakers.admit(deployment.id);
            if (!admission.admitted) {
              noteOut(deployment, admission);
              break;
            }
          }
        }
        if (slotKey !== null) bulkhead.release(slotKey);
        const error = lastError;
        if (!ProviderError.isProviderError(error)) continue;
        if (!isRetryableOnSameDeployment(error)) (doneWith ??= new Set()).add(deployment.id);
        if (error.kind === 'invalid_request') return fail(error);
        // A filter refusal goes to the configured alternative group, not to this group's twins.
        if (error.kind === 'content_filtered') stopGroup = true;
        if (error.kind === 'context_length_exceeded') {
          contextExceededIn = group.name;
          if (deployment.contextWindow === undefined) stopGroup = true;
          else minimumWindow = Math.max(minimumWindow ?? 0, deployment.contextWindow);
        }
      }
      heldTurn?.reservation.cancel(); // a turn taken for a deployment this pass did not reach
      heldTurn = undefined;
      // A deployment of this group recovers soon (its breaker half-opens, a 429's retry-after ends):
      // wait for it when that fits in the deadline, rather than failing at once.
      if (
        soonestRecoveryMs !== null &&
        passes < 100 &&
        waitedMs + soonestRecoveryMs <= resilience.waitForRecoveryMs &&
        soonestRecoveryMs < deadline.remainingMs()
      ) {
        const pause = Math.max(1, soonestRecoveryMs);
        const waitStart = clock.monotonic();
        try {
          // Waiting for a rate limit: in the deployment's queue, taking turns fairly with other tenants.
          if (queuedTurn?.retryInMs === soonestRecoveryMs) {
            const wait = {
              maxWaitMs: Math.min(resilience.waitForRecoveryMs - waitedMs, deadline.remainingMs()),
              signal: deadline.signal,
              tenant: scope.tenantId,
            };
            heldTurn = {
              deployment: queuedTurn.deployment,
              reservation: await resilience.rateLimiter.acquire(
                queuedTurn.subject,
                queuedTurn.limits,
                scope.estimateTokens(),
                wait,
              ),
            };
          } else await clock.sleep(pause, deadline.signal);
        } catch (aborted) {
          if (
            !deadline.expired() &&
            scope.options.signal?.aborted !== true &&
            PipewrightError.isInstance(aborted)
          )
            return fail(aborted);
          return fail(
            deadline.expired()
              ? createDeadlineExceededError(deadline.timeoutMs, aborted)
              : new ProviderError({
                  kind: 'aborted',
                  message: 'the caller aborted the call while it waited for a deployment to recover',
                  provider: 'pipewright',
                  cause: aborted,
                }),
          );
        }
        const waited = Math.max(1, clock.monotonic() - waitStart);
        waitedMs += waited;
        upstreamMs += waited;
        continue;
      }
      if (lastError === undefined && openReason !== undefined) {
        // (Set by noteOut, which the compiler's narrowing does not see.)
        const rest = resting as RestingSkip | null | undefined;
        lastError =
          refusal ??
          (rest == null
            ? createCircuitOpenError(group.name, soonestBackMs, openReason)
            : createRestingError(rest.deployment, rest.retryInMs, rest.reason));
      }
      // The next group, by the class of the last error.
      visited ??= new Set([scope.group.name]);
      visited.add(group.name);
      let next: string | undefined;
      const kind = ProviderError.isProviderError(lastError) ? lastError.kind : undefined;
      if (kind === 'content_filtered') next = group.contentFilterFallback;
      else if (kind === 'context_length_exceeded') next = group.contextLengthFallback;
      else {
        while (genericFallbacks < scope.group.fallbacks.length && next === undefined) {
          const candidate = scope.group.fallbacks[genericFallbacks++];
          if (candidate !== undefined && !visited.has(candidate)) next = candidate;
        }
      }
      group = next === undefined || visited.has(next) ? undefined : catalog.resolve(next);
    }
    return fail(
      lastError ??
        createCircuitOpenError(scope.group.name, null, openReason ?? 'no deployment could be tried'),
    );
  }

  return { execute, attemptError };
}

function skipped(
  deployment: Deployment,
  modelGroup: string,
  errorCode: 'gateway.circuit_open' | 'gateway.overloaded' | 'gateway.rate_limited',
): CallAttempt {
  return {
    deployment: deployment.id,
    provider: deployment.provider,
    modelGroup,
    errorCode,
    errorKind: null,
    durationMs: 0,
    retry: false,
  };
}

function createCircuitOpenError(
  modelGroup: string,
  retryInMs: number | null,
  reason: string,
): PipewrightError {
  return new PipewrightError({
    code: 'gateway.circuit_open',
    message: `every deployment of model group ${modelGroup} is unavailable (circuit breaker open; ${reason})${retryInMs === null ? '' : `; the first is probed again in ${Math.ceil(retryInMs)} ms`}`,
    ...(retryInMs === null ? {} : { details: { retryAfterMs: retryInMs } }),
  });
}

/**
 * What a call that has nowhere else to go is told while its deployment rests because the provider
 * said so (a 429's retry-after, a limit with nothing left): a 429 at once, with the time left.
 */
function createRestingError(deployment: Deployment, retryInMs: number, reason: string): ProviderError {
  return new ProviderError({
    kind: 'rate_limited',
    message: `deployment ${deployment.id} is resting until its provider's limit allows calls again (${reason}); no call was made, retry in ${Math.ceil(retryInMs / 1000)} s`,
    provider: deployment.provider,
    deployment: deployment.id,
    retryAfterMs: retryInMs,
  });
}

/**
 * The error a caller sees when every route failed: the last error (a ProviderError stays one, so
 * its retry-after still reaches the gateway's headers), with every attempt in `details.attempts`.
 */
export function withAttempts(error: PipewrightError, attempts: CallAttempt[]): PipewrightError {
  const details = { ...error.details, attempts: [...attempts] };
  const message =
    attempts.length <= 1
      ? error.message
      : `${error.message} (after ${attempts.length} attempts: ${attempts.map((attempt) => `${attempt.deployment} ${attempt.errorCode ?? 'ok'}`).join(', ')})`;
  if (ProviderError.isProviderError(error))
    return new ProviderError({ ...error.toOptions(), message, details, cause: error });
  return new PipewrightError({
    code: error.code,
    message,
    cause: error,
    status: error.status,
    isRetryable: error.isRetryable,
    ...(error.param === undefined ? {} : { param: error.param }),
    details,
  });
}
