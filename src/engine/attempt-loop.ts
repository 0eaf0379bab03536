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
  type RetryPolicy,
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
export function createAttemptLoop(dependencies: AttemptLoopDependencies) {
  const { resilience } = dependencies;
  const loop: LoopContext = {
    ...dependencies,
    balancing: {
      stats: resilience.stats,
      random: resilience.random,
      weightOf: (deployment: { id: string }) => resilience.weightOf(deployment.id),
    },
    attemptError,
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
   * When every deployment is out (open breakers, resting for a 429), waits for the first to come
   * back only when the caller chose its own deadline and it fits; otherwise fails at once with a
   * retry-after (`503 gateway.circuit_open`, or `429` while they rest at their provider's request).
   */
  function execute<T>(
    scope: AttemptScope,
    streaming: boolean,
    call: AttemptCall<T>,
    onLastDeployment: (deployment: Deployment) => void,
  ): Promise<Answered<T>> {
    return new AttemptRun(loop, scope, streaming, call, onLastDeployment).run();
  }

  return { execute, attemptError };
}

/** What every run of the loop shares. */
interface LoopContext extends AttemptLoopDependencies {
  balancing: Parameters<typeof orderDeployments>[2];
  attemptError(scope: AttemptScope, caught: unknown, deployment: Deployment): PipewrightError;
}

type Admitted = Extract<BreakerAdmission, { admitted: true }>;
type Refused = Extract<BreakerAdmission, { admitted: false }>;

/** A rate-limited deployment to wait for in its fair queue. */
interface QueuedTurn {
  deployment: string;
  subject: string;
  limits: RateLimits;
  retryInMs: number;
}

const minimumOf = (current: number | null, candidate: number): number =>
  current === null ? candidate : Math.min(current, candidate);

/** One call's way through the deployments: the state of `execute`, split into its steps. */
class AttemptRun<T> {
  readonly #loop: LoopContext;
  readonly #scope: AttemptScope;
  readonly #streaming: boolean;
  readonly #call: AttemptCall<T>;
  readonly #onLastDeployment: (deployment: Deployment) => void;
  readonly #attempts: CallAttempt[] = [];
  /** Only the caller's own deadline lets it wait for a deployment that is out (open, or resting for a 429). */
  readonly #waitsForRecovery: boolean;
  #upstreamMs = 0;
  #lastError: PipewrightError | undefined;
  #visited: Set<string> | undefined;
  #genericFallbacks = 0;
  #waitedMs = 0;
  #passes = 0;
  /** Deployments that failed this request with an error retrying cannot fix: never called again for it. */
  #doneWith: Set<string> | undefined;
  /** Why the last skipped deployment's breaker was open, for the error message. */
  #openReason: string | undefined;
  /** After a context-length error: only deployments with a window known to be larger than this. */
  #minimumWindow: number | undefined;
  /** The group where the prompt was found too long, if it was. */
  #contextExceededIn: string | undefined;
  /** Every skipped deployment was out for a refused key: surface that (401/403), not a 503. */
  #refusal: PipewrightError | null | undefined;
  /** The room taken in a rate-limit queue while waiting, for the next pass. */
  #heldTurn: { deployment: string; reservation: RateLimitReservation } | undefined;
  // Per pass over a group:
  /** The soonest a deployment of this group can be called again, when the call may wait for it. */
  #soonestRecoveryMs: number | null = null;
  /** The soonest a skipped deployment takes calls again: the retry-after of a circuit_open error. */
  #soonestBackMs: number | null = null;
  /** Every deployment skipped in this pass was resting because its provider said so (null: not all). */
  #resting: RestingSkip | null | undefined;
  #queuedTurn: QueuedTurn | undefined;
  #stopGroup = false;

  constructor(
    loop: LoopContext,
    scope: AttemptScope,
    streaming: boolean,
    call: AttemptCall<T>,
    onLastDeployment: (deployment: Deployment) => void,
  ) {
    this.#loop = loop;
    this.#scope = scope;
    this.#streaming = streaming;
    this.#call = call;
    this.#onLastDeployment = onLastDeployment;
    this.#waitsForRecovery =
      loop.resilience.callerDeadlineFor(scope.options.stepType, scope.requestedDeadlineMs) !== undefined;
  }

  async run(): Promise<Answered<T>> {
    let group: ModelGroup | undefined = this.#scope.group;
    while (group !== undefined) {
      const answered = await this.#tryGroup(group);
      if (answered !== undefined) return answered;
      if (await this.#waitForRecovery()) continue;
      this.#noteGroupError(group);
      group = this.#nextGroup(group);
    }
    return this.#fail(
      this.#lastError ??
        createCircuitOpenError(
          this.#scope.group.name,
          null,
          this.#openReason ?? 'no deployment could be tried',
        ),
    );
  }

  #fail(error: PipewrightError): never {
    this.#heldTurn?.reservation.cancel();
    throw withAttempts(error, this.#attempts);
  }

  /** One pass over a group's deployments, in the balancer's order. */
  async #tryGroup(group: ModelGroup): Promise<Answered<T> | undefined> {
    const { resilience } = this.#loop;
    const { breakers, bulkhead } = resilience;
    this.#passes += 1;
    this.#soonestRecoveryMs = null;
    this.#soonestBackMs = null;
    this.#resting = undefined;
    this.#queuedTurn = undefined;
    this.#stopGroup = false;
    for (const deployment of orderDeployments(group.deployments, group.strategy, this.#loop.balancing)) {
      if (this.#stopGroup) break;
      if (!this.#mayTry(deployment, group)) continue;
      const admission = breakers.admit(deployment.id);
      if (!admission.admitted) {
        this.#skipOut(deployment, group, admission);
        continue;
      }
      const slotLimit = resilience.maxInFlightOf(deployment.id);
      const slotKey = slotLimit === undefined ? null : `deployment:${deployment.id}`;
      if (slotKey !== null && slotLimit !== undefined && !bulkhead.tryAcquire(slotKey, slotLimit)) {
        breakers.release(deployment.id, admission.probe);
        this.#attempts.push(skipped(deployment, group.name, 'gateway.overloaded'));
        this.#lastError = createOverloadedError(slotKey, slotLimit);
        continue;
      }
      this.#onLastDeployment(deployment);
      const answered = await this.#tryRepeatedly(deployment, group, admission, slotKey);
      if (answered !== undefined) return answered;
      if (slotKey !== null) bulkhead.release(slotKey);
      this.#learnFromFailure(deployment, group);
    }
    this.#heldTurn?.reservation.cancel(); // a turn taken for a deployment this pass did not reach
    this.#heldTurn = undefined;
    return undefined;
  }

  /** False for a deployment this call is done with, or whose context window cannot help. */
  #mayTry(deployment: Deployment, group: ModelGroup): boolean {
    if (this.#doneWith?.has(deployment.id) === true) return false;
    if (this.#contextExceededIn === undefined) return true;
    const window = deployment.contextWindow;
    const larger =
      window !== undefined && (this.#minimumWindow === undefined || window > this.#minimumWindow);
    // Only a larger known window can help within the same group; in a fallback group an unknown one may.
    return larger || (group.name !== this.#contextExceededIn && window === undefined);
  }

  /** A deployment whose breaker kept it out: listed once per run of skips, and when it is back noted. */
  #skipOut(deployment: Deployment, group: ModelGroup, admission: Refused): void {
    this.#openReason = `${deployment.id}: ${admission.reason}`;
    this.#refusal =
      this.#refusal === undefined || this.#refusal !== null ? (admission.refusal ?? null) : null;
    // One entry per deployment skipped in a row: waiting passes do not repeat it.
    const previous = this.#attempts.at(-1);
    if (previous?.deployment !== deployment.id || previous.errorCode !== 'gateway.circuit_open')
      this.#attempts.push(skipped(deployment, group.name, 'gateway.circuit_open'));
    this.#noteOut(deployment, admission);
  }

  /** A deployment is out (breaker open, half-open with its probe out, resting): note when it is back. */
  #noteOut(deployment: Deployment, admission: Refused): void {
    if (admission.paused === true && admission.retryInMs !== null) {
      if (
        this.#resting !== null &&
        (this.#resting === undefined || admission.retryInMs < this.#resting.retryInMs)
      )
        this.#resting = { deployment, retryInMs: admission.retryInMs, reason: admission.reason };
    } else this.#resting = null;
    if (admission.retryInMs === null) return;
    this.#soonestBackMs = minimumOf(this.#soonestBackMs, admission.retryInMs);
    if (this.#waitsForRecovery)
      this.#soonestRecoveryMs = minimumOf(this.#soonestRecoveryMs, admission.retryInMs);
  }

  /** Tries one deployment, retrying transient errors; undefined once it is time to move on. */
  async #tryRepeatedly(
    deployment: Deployment,
    group: ModelGroup,
    admitted: Admitted,
    slotKey: string | null,
  ): Promise<Answered<T> | undefined> {
    const { clock, resilience } = this.#loop;
    const { breakers, bulkhead, stats } = resilience;
    const policy = resilience.policyFor(deployment.id, this.#scope.options.stepType);
    const limits = resilience.limitsOf(deployment.id);
    let admission = admitted;
    for (let tries = 1; ; tries++) {
      let reservation: RateLimitReservation | null = null;
      if (this.#heldTurn?.deployment === deployment.id) {
        reservation = this.#heldTurn.reservation;
        this.#heldTurn = undefined;
      } else if (limits !== undefined) {
        const taken = await this.#takeRoom(deployment, group, admission, limits, tries);
        if (taken === undefined) return undefined;
        reservation = taken;
      }
      const attemptStart = clock.monotonic();
      const guard = createAttemptGuard({
        clock,
        deadline: this.#scope.deadline,
        timeouts: policy.timeouts,
        streaming: this.#streaming,
        provider: deployment.provider,
        deployment: deployment.id,
      });
      stats.begin(deployment.id);
      try {
        const value = await this.#call(deployment, guard);
        const durationMs = clock.monotonic() - attemptStart;
        this.#upstreamMs += durationMs;
        this.#attempts.push(tried(deployment, group.name, null, durationMs, tries > 1));
        this.#heldTurn?.reservation.cancel();
        return this.#answered(value, deployment, guard, admission.probe, slotKey, reservation);
      } catch (caught) {
        guard.dispose();
        stats.end(deployment.id);
        reservation?.settle(0);
        const durationMs = clock.monotonic() - attemptStart;
        this.#upstreamMs += durationMs;
        const error = this.#loop.attemptError(this.#scope, caught, deployment);
        this.#attempts.push(tried(deployment, group.name, error, durationMs, tries > 1));
        this.#lastError = error;
        if (!ProviderError.isProviderError(error) || error.kind === 'aborted') {
          // The deadline or the caller ended the call, or the operation cannot work here at all
          // (unsupported, a bug): nothing to learn about the deployment, nothing to retry.
          breakers.release(deployment.id, admission.probe);
          if (slotKey !== null) bulkhead.release(slotKey);
          return this.#fail(error);
        }
        const next = await this.#afterFailure(deployment, error, admission, policy.retry, tries, slotKey);
        if (next === undefined) return undefined;
        admission = next;
      }
    }
  }

  /** Room under the deployment's own rate limit; undefined (listed, maybe queued for) when there is none. */
  async #takeRoom(
    deployment: Deployment,
    group: ModelGroup,
    admission: Admitted,
    limits: RateLimits,
    tries: number,
  ): Promise<RateLimitReservation | undefined> {
    const { resilience } = this.#loop;
    const subject = `deployment:${deployment.id}`;
    const taken = await resilience.rateLimiter.tryAcquire(subject, limits, this.#scope.estimateTokens());
    if (taken.reservation !== null) return taken.reservation;
    resilience.breakers.release(deployment.id, admission.probe);
    this.#attempts.push(skipped(deployment, group.name, 'gateway.rate_limited'));
    if (tries === 1) this.#lastError = createRateLimitedError(subject, taken.retryInMs);
    // Queue mode: come back when there is room, if that fits in the deadline.
    if (resilience.tenants.overflow === 'queue' && Number.isFinite(taken.retryInMs)) {
      this.#soonestRecoveryMs = minimumOf(this.#soonestRecoveryMs, taken.retryInMs);
      if (this.#queuedTurn === undefined || taken.retryInMs < this.#queuedTurn.retryInMs)
        this.#queuedTurn = { deployment: deployment.id, subject, limits, retryInMs: taken.retryInMs };
    }
    return undefined;
  }

  /** The answer, with the hook that settles the breaker, the slot and the reservation once. */
  #answered(
    value: T,
    deployment: Deployment,
    guard: AttemptGuard,
    probe: boolean,
    slotKey: string | null,
    reservation: RateLimitReservation | null,
  ): Answered<T> {
    const { breakers, bulkhead, stats } = this.#loop.resilience;
    let settled = false;
    return {
      value,
      deployment,
      attempts: this.#attempts,
      upstreamMs: this.#upstreamMs,
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
  }

  /**
   * Counts a provider failure, then decides: try the same deployment again after a backoff (or
   * the provider's retry-after), returning its new admission, or move on (undefined).
   */
  async #afterFailure(
    deployment: Deployment,
    error: ProviderError,
    admission: Admitted,
    retry: RetryPolicy,
    tries: number,
    slotKey: string | null,
  ): Promise<Admitted | undefined> {
    const { clock, resilience } = this.#loop;
    const { breakers } = resilience;
    const { deadline } = this.#scope;
    breakers.recordFailure(deployment.id, error, admission.probe);
    // This failure opened the breaker: no backoff before moving on (a rest the provider
    // asked for is still waited for below, as its retry-after).
    if (breakers.state(deployment.id) === 'open') {
      const out = breakers.admit(deployment.id);
      if (!out.admitted && out.paused !== true) {
        this.#noteOut(deployment, out);
        return undefined;
      }
    }
    const decision = decideRetry(retry, error, tries, deadline.remainingMs(), resilience.random);
    if (!decision.retry) return undefined;
    const waitStart = clock.monotonic();
    try {
      await clock.sleep(decision.delayMs, deadline.signal);
    } catch (aborted) {
      if (slotKey !== null) resilience.bulkhead.release(slotKey);
      return this.#fail(this.#loop.attemptError(this.#scope, aborted, deployment));
    }
    this.#upstreamMs += clock.monotonic() - waitStart;
    // The failure just counted may have opened the breaker: then move on (and maybe come back).
    const next = breakers.admit(deployment.id);
    if (next.admitted) return next;
    this.#noteOut(deployment, next);
    return undefined;
  }

  /** What the deployment's last error says about the rest of the call (errors about the request stop it). */
  #learnFromFailure(deployment: Deployment, group: ModelGroup): void {
    const error = this.#lastError;
    if (!ProviderError.isProviderError(error)) return;
    if (!isRetryableOnSameDeployment(error)) (this.#doneWith ??= new Set()).add(deployment.id);
    if (error.kind === 'invalid_request') this.#fail(error);
    // A filter refusal goes to the configured alternative group, not to this group's twins.
    if (error.kind === 'content_filtered') this.#stopGroup = true;
    if (error.kind === 'context_length_exceeded') {
      this.#contextExceededIn = group.name;
      if (deployment.contextWindow === undefined) this.#stopGroup = true;
      else this.#minimumWindow = Math.max(this.#minimumWindow ?? 0, deployment.contextWindow);
    }
  }

  /**
   * A deployment of this group is back soon (its breaker half-opens, a 429's retry-after ends, its
   * rate limit has room): waits for it when the call may and that fits (true: try the group again).
   */
  async #waitForRecovery(): Promise<boolean> {
    const { clock, resilience } = this.#loop;
    const { deadline } = this.#scope;
    const soonest = this.#soonestRecoveryMs;
    if (
      soonest === null ||
      this.#passes >= 100 ||
      this.#waitedMs + soonest > resilience.waitForRecoveryMs ||
      soonest >= deadline.remainingMs()
    )
      return false;
    const waitStart = clock.monotonic();
    try {
      const turn = this.#queuedTurn;
      // Waiting for a rate limit: in the deployment's queue, taking turns fairly with other tenants.
      if (turn?.retryInMs === soonest) {
        const wait = {
          maxWaitMs: Math.min(resilience.waitForRecoveryMs - this.#waitedMs, deadline.remainingMs()),
          signal: deadline.signal,
          tenant: this.#scope.tenantId,
        };
        const reservation = await resilience.rateLimiter.acquire(
          turn.subject,
          turn.limits,
          this.#scope.estimateTokens(),
          wait,
        );
        this.#heldTurn = { deployment: turn.deployment, reservation };
      } else await clock.sleep(Math.max(1, soonest), deadline.signal);
    } catch (aborted) {
      this.#failWaiting(aborted);
    }
    const waited = Math.max(1, clock.monotonic() - waitStart);
    this.#waitedMs += waited;
    this.#upstreamMs += waited;
    return true;
  }

  /** A wait for recovery that ended early: the deadline, the caller, or the queue's own refusal. */
  #failWaiting(aborted: unknown): never {
    const { deadline } = this.#scope;
    if (
      !deadline.expired() &&
      this.#scope.options.signal?.aborted !== true &&
      PipewrightError.isInstance(aborted)
    )
      return this.#fail(aborted);
    return this.#fail(
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

  /** Every deployment of the group was skipped: the error says why (a refused key, a rest, an open breaker). */
  #noteGroupError(group: ModelGroup): void {
    if (this.#lastError !== undefined || this.#openReason === undefined) return;
    const rest = this.#resting;
    this.#lastError =
      this.#refusal ??
      (rest === null || rest === undefined
        ? createCircuitOpenError(group.name, this.#soonestBackMs, this.#openReason)
        : createRestingError(rest.deployment, rest.retryInMs, rest.reason));
  }

  /** The next group, by the class of the last error; undefined when there is none left. */
  #nextGroup(group: ModelGroup): ModelGroup | undefined {
    const fallbacks = this.#scope.group.fallbacks;
    const visited = (this.#visited ??= new Set([this.#scope.group.name]));
    visited.add(group.name);
    let next: string | undefined;
    const kind = ProviderError.isProviderError(this.#lastError) ? this.#lastError.kind : undefined;
    if (kind === 'content_filtered') next = group.contentFilterFallback;
    else if (kind === 'context_length_exceeded') next = group.contextLengthFallback;
    else {
      while (this.#genericFallbacks < fallbacks.length && next === undefined) {
        const candidate = fallbacks[this.#genericFallbacks++];
        if (candidate !== undefined && !visited.has(candidate)) next = candidate;
      }
    }
    return next === undefined || visited.has(next) ? undefined : this.#loop.catalog.resolve(next);
  }
}

/** One try that reached (or was meant to reach) the deployment. */
function tried(
  deployment: Deployment,
  modelGroup: string,
  error: PipewrightError | null,
  durationMs: number,
  retry: boolean,
): CallAttempt {
  return {
    deployment: deployment.id,
    provider: deployment.provider,
    modelGroup,
    errorCode: error?.code ?? null,
    errorKind: error !== null && ProviderError.isProviderError(error) ? error.kind : null,
    durationMs,
    retry,
  };
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
