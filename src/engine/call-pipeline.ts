import { createId, createTraceId, PipewrightError, ProviderError, toPipewrightError, type Clock } from '../core/index.ts';
import type { ChatStreamResult, Deployment, ProviderClient, UpstreamMeta } from '../providers/index.ts';
import {
  createAttemptGuard,
  createDeadline,
  createDeadlineExceededError,
  createOverloadedError,
  createRateLimitedError,
  decideRetry,
  estimateRequestTokens,
  isRetryableOnSameDeployment,
  orderDeployments,
  type AttemptGuard,
  type Deadline,
  type RateLimitReservation,
  type RateLimits,
  type Resilience,
} from '../resilience/index.ts';
import {
  emptyUsage,
  normalizeUsage,
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type ImagesRequest,
  type ImagesResponse,
  type TokenUsage,
} from '../spec/index.ts';
import type { CacheStatus, CallOperation, CallRecord, Metrics, PriceCatalog, TelemetryRecorder } from '../telemetry/index.ts';
import { parseCacheControl, fingerprintConfig, toChatChunks, toChatResponse, type CacheControl, type AvoidedCost, type CacheOrigin, type CachePlan, type ExactCache, type ExactCacheHit, type SingleFlight } from '../cache/index.ts';
import type { CallAttempt, CallMeta, EngineCallOptions } from './engine-types.ts';
import type { ModelCatalog, ModelGroup } from './model-catalog.ts';

export interface CallPipelineDependencies {
  catalog: ModelCatalog;
  client: ProviderClient;
  clock: Clock;
  defaultTenantId: string;
  resilience: Resilience;
  recorder?: TelemetryRecorder | undefined;
  metrics?: Metrics | undefined;
  prices?: PriceCatalog | undefined;
  /** The exact cache and single-flight for chat calls; absent: no caching, no sharing. */
  cache?: { exact: ExactCache; flights: SingleFlight } | undefined;
}

/** A stream the engine has started: headers are known, chunks follow. */
export interface EngineChatStream {
  /** Known before the first chunk: the deployment chosen and ids. Usage and cost fill in at the end. */
  meta: CallMeta;
  chunks: AsyncIterable<ChatChunk>;
  /** Resolves with the final meta (usage, cost, latency) when the stream ends, however it ends. */
  done: Promise<CallMeta>;
}

interface CallScope {
  tenantId: string;
  requestId: string;
  traceId: string;
  startedAt: number;
  startedMonotonic: number;
  group: ModelGroup;
  options: EngineCallOptions;
  deadline: Deadline;
  /** The tenant bulkhead key when this call holds a tenant slot. */
  tenantSlot: string | null;
  /** Tokens this call is expected to use, for rate limits (computed only when a limit applies). */
  estimateTokens: () => number;
  tenantReservation: RateLimitReservation | null;
  /** The real token usage, once known; settles the rate-limit reservations. */
  usedTokens: number;
  cacheStatus: CacheStatus;
}

/** How an admitted attempt ended, for the breaker and the bulkhead. */
type Settlement = { outcome: 'success'; latencyMs: number; tokens: number } | { outcome: 'failure'; error: PipewrightError } | { outcome: 'neutral' };

/** A call that a deployment answered: the value, and the hook that settles its breaker and slots. */
interface Answered<T> {
  value: T;
  deployment: Deployment;
  attempts: CallAttempt[];
  upstreamMs: number;
  guard: AttemptGuard;
  settle(settlement: Settlement): void;
}

/** One try of one deployment. Streams resolve once their first content chunk arrived (or they ended). */
type AttemptCall<T> = (deployment: Deployment, guard: AttemptGuard) => Promise<T>;

/**
 * The one place the call pipeline is composed: resolve the model group, order its deployments
 * (load balancing), and for each candidate: bulkhead → circuit breaker → retry loop → provider
 * client; then the group's fallback chains by error class. Prices the usage and records telemetry.
 * Caching, rate limiting and gates plug in here.
 */
export function createCallPipeline(dependencies: CallPipelineDependencies) {
  const { catalog, client, clock, recorder, metrics, prices, resilience } = dependencies;
  const { breakers, bulkhead, stats } = resilience;
  const balancing = { stats, random: resilience.random, weightOf: (deployment: Deployment) => resilience.weightOf(deployment.id) };
  /** Config fingerprints of the model groups (fixed for the engine's life), computed once each. */
  const fingerprints = new Map<string, string>();

  async function openScope(modelGroup: string, options: EngineCallOptions, estimate: () => number, cacheStatus: CacheStatus): Promise<CallScope> {
    const group = catalog.resolve(modelGroup);
    const tenantId = options.tenantId ?? dependencies.defaultTenantId;
    const deadline = createDeadline({ clock, timeoutMs: resilience.deadlineFor(options.stepType, options.deadlineMs), signal: options.signal });
    const scope: CallScope = {
      tenantId,
      requestId: options.requestId ?? createId('req'),
      traceId: options.traceId ?? createTraceId(),
      startedAt: clock.now(),
      startedMonotonic: clock.monotonic(),
      group,
      options,
      deadline,
      tenantSlot: null,
      estimateTokens: memoize(estimate),
      tenantReservation: null,
      usedTokens: 0,
      cacheStatus,
    };
    const limit = resilience.tenants.maxInFlight;
    if (limit !== undefined) {
      const key = `tenant:${tenantId}`;
      const maxWaitMs = resilience.tenants.overflow === 'reject' ? 0 : Math.min(resilience.tenants.maxQueueMs, deadline.remainingMs());
      try {
        await bulkhead.acquire(key, limit, { maxWaitMs, signal: deadline.signal });
      } catch (error) {
        deadline.dispose();
        throw error;
      }
      scope.tenantSlot = key;
    }
    const tenantLimits = resilience.tenants.limits;
    if (tenantLimits !== undefined) {
      const maxWaitMs = resilience.tenants.overflow === 'reject' ? 0 : Math.min(resilience.tenants.maxQueueMs, deadline.remainingMs());
      try {
        scope.tenantReservation = await resilience.rateLimiter.acquire(`tenant:${tenantId}`, tenantLimits, scope.estimateTokens(), { maxWaitMs, signal: deadline.signal });
      } catch (error) {
        closeScope(scope);
        throw error;
      }
    }
    return scope;
  }

  function closeScope(scope: CallScope): void {
    scope.deadline.dispose();
    if (scope.tenantSlot !== null) bulkhead.release(scope.tenantSlot);
    scope.tenantSlot = null;
    scope.tenantReservation?.settle(scope.usedTokens);
    scope.tenantReservation = null;
  }

  function costOf(deployment: Deployment, usage: TokenUsage): number | null {
    if (prices === undefined) return null;
    return prices.costOf(deployment.provider, deployment.model, usage, deployment.id);
  }

  function buildMeta(scope: CallScope, deployment: Deployment, attempts: CallAttempt[], usage: TokenUsage, upstreamMs: number, timeToFirstTokenMs: number | null): CallMeta {
    return {
      tenantId: scope.tenantId,
      requestId: scope.requestId,
      traceId: scope.traceId,
      modelGroup: scope.group.name,
      provider: deployment.provider,
      model: deployment.model,
      deployment: deployment.id,
      simulated: deployment.provider === 'sim',
      usage,
      costUsd: costOf(deployment, usage),
      latencyMs: clock.monotonic() - scope.startedMonotonic,
      upstreamMs,
      timeToFirstTokenMs,
      cacheStatus: scope.cacheStatus,
      savedCostUsd: null,
      savedLatencyMs: null,
      attempts,
    };
  }

  function record(scope: CallScope, operation: CallOperation, streamed: boolean, meta: CallMeta | null, error: PipewrightError | null, lastDeployment: Deployment | null): void {
    const usage = meta?.usage ?? emptyUsage;
    const deployment = lastDeployment;
    const callRecord: CallRecord = {
      id: createId('call'),
      time: scope.startedAt,
      tenantId: scope.tenantId,
      requestId: scope.requestId,
      traceId: scope.traceId,
      operation,
      stepType: scope.options.stepType ?? null,
      modelGroup: scope.group.name,
      provider: deployment?.provider ?? null,
      model: deployment?.model ?? null,
      deployment: deployment?.id ?? null,
      streamed,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cachedInputTokens: usage.cachedInputTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      reasoningTokens: usage.reasoningTokens,
      latencyMs: meta?.latencyMs ?? clock.monotonic() - scope.startedMonotonic,
      timeToFirstTokenMs: meta?.timeToFirstTokenMs ?? null,
      costUsd: meta?.costUsd ?? (deployment === null ? null : costOf(deployment, usage)),
      cacheStatus: meta?.cacheStatus ?? scope.cacheStatus,
      savedCostUsd: meta?.savedCostUsd ?? null,
      savedLatencyMs: meta?.savedLatencyMs ?? null,
      outcome: error === null ? 'success' : 'error',
      errorCode: error?.code ?? null,
      simulated: deployment?.provider === 'sim',
    };
    metrics?.observeCall(callRecord);
    recorder?.record(callRecord);
  }

  /** The failure of an attempt, as the caller will see it: the deadline and the caller's abort win. */
  function attemptError(scope: CallScope, caught: unknown, deployment: Deployment): PipewrightError {
    if (scope.deadline.expired()) return createDeadlineExceededError(scope.deadline.timeoutMs, caught);
    if (scope.options.signal?.aborted === true && !(ProviderError.isProviderError(caught) && caught.kind === 'aborted')) {
      return new ProviderError({ kind: 'aborted', message: 'the caller aborted the call', provider: deployment.provider, deployment: deployment.id, cause: caught });
    }
    return ProviderError.isProviderError(caught) ? caught.withDeployment(deployment.id) : toPipewrightError(caught);
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
  async function execute<T>(scope: CallScope, streaming: boolean, call: AttemptCall<T>, onLastDeployment: (deployment: Deployment) => void): Promise<Answered<T>> {
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
    /** The rate-limited deployment to wait for in its fair queue, and the room taken there for the next pass. */
    let queuedTurn: { deployment: string; subject: string; limits: RateLimits; retryInMs: number } | undefined;
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
          if (previous?.deployment !== deployment.id || previous.errorCode !== 'gateway.circuit_open') attempts.push(skipped(deployment, group.name, 'gateway.circuit_open'));
          if (admission.retryInMs !== null) soonestRecoveryMs = soonestRecoveryMs === null ? admission.retryInMs : Math.min(soonestRecoveryMs, admission.retryInMs);
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
                soonestRecoveryMs = soonestRecoveryMs === null ? taken.retryInMs : Math.min(soonestRecoveryMs, taken.retryInMs);
                if (queuedTurn === undefined || taken.retryInMs < queuedTurn.retryInMs) queuedTurn = { deployment: deployment.id, subject, limits, retryInMs: taken.retryInMs };
              }
              break;
            }
            reservation = taken.reservation;
          }
          const attemptStart = clock.monotonic();
          const guard = createAttemptGuard({ clock, deadline, timeouts: policy.timeouts, streaming, provider: deployment.provider, deployment: deployment.id });
          stats.begin(deployment.id);
          try {
            const value = await call(deployment, guard);
            const durationMs = clock.monotonic() - attemptStart;
            upstreamMs += durationMs;
            attempts.push({ deployment: deployment.id, provider: deployment.provider, modelGroup: group.name, errorCode: null, errorKind: null, durationMs, retry: tries > 1 });
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
            const decision = decideRetry(policy.retry, error, tries, deadline.remainingMs(), resilience.random);
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
              if (admission.retryInMs !== null) soonestRecoveryMs = soonestRecoveryMs === null ? admission.retryInMs : Math.min(soonestRecoveryMs, admission.retryInMs);
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
      if (soonestRecoveryMs !== null && passes < 100 && waitedMs + soonestRecoveryMs <= resilience.waitForRecoveryMs && soonestRecoveryMs < deadline.remainingMs()) {
        const pause = Math.max(1, soonestRecoveryMs);
        const waitStart = clock.monotonic();
        try {
          // Waiting for a rate limit: in the deployment's queue, taking turns fairly with other tenants.
          if (queuedTurn?.retryInMs === soonestRecoveryMs) {
            const wait = { maxWaitMs: Math.min(resilience.waitForRecoveryMs - waitedMs, deadline.remainingMs()), signal: deadline.signal, tenant: scope.tenantId };
            heldTurn = { deployment: queuedTurn.deployment, reservation: await resilience.rateLimiter.acquire(queuedTurn.subject, queuedTurn.limits, scope.estimateTokens(), wait) };
          } else await clock.sleep(pause, deadline.signal);
        } catch (aborted) {
          if (!deadline.expired() && scope.options.signal?.aborted !== true && PipewrightError.isInstance(aborted)) return fail(aborted);
          return fail(
            deadline.expired()
              ? createDeadlineExceededError(deadline.timeoutMs, aborted)
              : new ProviderError({ kind: 'aborted', message: 'the caller aborted the call while it waited for a deployment to recover', provider: 'pipewright', cause: aborted }),
          );
        }
        const waited = Math.max(1, clock.monotonic() - waitStart);
        waitedMs += waited;
        upstreamMs += waited;
        continue;
      }
      if (lastError === undefined && openReason !== undefined) lastError = refusal ?? createCircuitOpenError(group.name, soonestRecoveryMs, openReason);
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
    return fail(lastError ?? createCircuitOpenError(scope.group.name, null, openReason ?? 'no deployment could be tried'));
  }

  async function runWhole<T>(
    operation: CallOperation,
    modelGroup: string,
    options: EngineCallOptions,
    call: (deployment: Deployment, signal: AbortSignal | undefined) => Promise<{ response: T; meta: UpstreamMeta }>,
    usageOf: (response: T) => TokenUsage,
    estimate: () => number,
    cacheStatus: CacheStatus = 'bypass',
  ): Promise<{ response: T; meta: CallMeta }> {
    const scope = await openScope(modelGroup, options, estimate, cacheStatus);
    let lastDeployment: Deployment | null = null;
    try {
      const result = await execute(
        scope,
        false,
        (deployment, guard) => guard.step(call(deployment, guard.signal)),
        (deployment) => {
          lastDeployment = deployment;
        },
      );
      resilience.observeHeaders(result.deployment.id, result.value.meta.headers);
      const usage = usageOf(result.value.response);
      scope.usedTokens = usage.inputTokens + usage.outputTokens;
      result.settle({ outcome: 'success', latencyMs: result.attempts.at(-1)?.durationMs ?? 0, tokens: scope.usedTokens });
      const meta = buildMeta(scope, result.deployment, result.attempts, usage, result.upstreamMs, null);
      record(scope, operation, false, meta, null, result.deployment);
      return { response: result.value.response, meta };
    } catch (error) {
      const failure = toPipewrightError(error);
      record(scope, operation, false, null, failure, lastDeployment);
      throw failure;
    } finally {
      closeScope(scope);
    }
  }

  function upstreamOptions(options: EngineCallOptions, signal: AbortSignal | undefined) {
    return {
      ...(signal === undefined ? {} : { signal }),
      ...(options.upstreamHeaders === undefined ? {} : { headers: options.upstreamHeaders }),
    };
  }

  return {
    /**
     * Records a model call made outside the engine (code wrapped by `adaptFunction` while it is
     * being migrated), so it still shows up in telemetry with its tenant, latency and outcome.
     */
    recordExternal(call: { operation?: CallOperation; tenantId?: string; requestId: string; traceId: string; stepType: string; modelGroup: string; model: string | null; usage: TokenUsage; latencyMs: number; startedAt: number; error: PipewrightError | null }): void {
      const callRecord: CallRecord = {
        id: createId('call'),
        time: call.startedAt,
        tenantId: call.tenantId ?? dependencies.defaultTenantId,
        requestId: call.requestId,
        traceId: call.traceId,
        operation: call.operation ?? 'chat',
        stepType: call.stepType,
        modelGroup: call.modelGroup,
        provider: 'external',
        model: call.model,
        deployment: null,
        streamed: false,
        inputTokens: call.usage.inputTokens,
        outputTokens: call.usage.outputTokens,
        cachedInputTokens: call.usage.cachedInputTokens,
        cacheWriteTokens: call.usage.cacheWriteTokens,
        reasoningTokens: call.usage.reasoningTokens,
        latencyMs: call.latencyMs,
        timeToFirstTokenMs: null,
        costUsd: call.model === null || prices === undefined ? null : prices.costOf('external', call.model, call.usage),
        cacheStatus: 'bypass',
        savedCostUsd: null,
        savedLatencyMs: null,
        outcome: call.error === null ? 'success' : 'error',
        errorCode: call.error?.code ?? null,
        simulated: false,
      };
      metrics?.observeCall(callRecord);
      recorder?.record(callRecord);
    },

    async chat(request: ChatRequest, options: EngineCallOptions = {}): Promise<{ response: ChatResponse; meta: CallMeta }> {
      const planned = planCache(request, options);
      if (planned === undefined) return chatUpstream(request, options, 'bypass');
      const { plan, control, exact, flights } = planned;
      const status = statusOf(plan);
      const startedAt = clock.now();
      const startedMonotonic = clock.monotonic();
      const hit = await exact.lookup(plan);
      if (hit !== undefined) {
        const meta = serveHit(request, options, plan, hit, false, startedAt, startedMonotonic);
        return { response: toChatResponse(hit.entry.answer), meta };
      }
      if (control.forceRefresh) await exact.invalidate(plan);
      const source = async (signal: AbortSignal | undefined) => {
        const result = await chatUpstream(request, withSignal(options, signal), status);
        // A cache that fails to store must not fail a call that succeeded.
        await exact.store(plan, { kind: 'response', response: result.response }, avoidedBy(result.meta), originOf(result.meta)).catch(() => false);
        return result;
      };
      if (!plan.decision.joinInFlight) return source(options.signal);
      const { value, shared } = await flights.run({ tenant: plan.scope.tenant, key: plan.key }, source, options.signal);
      if (!shared) return value;
      // Each caller gets its own copy and its own ids; telemetry recorded the one upstream call.
      return { response: structuredClone(value.response), meta: joinedMeta(value.meta, options, startedMonotonic) };
    },

    async embed(request: EmbeddingsRequest, options: EngineCallOptions = {}): Promise<{ response: EmbeddingsResponse; meta: CallMeta }> {
      const result = await runWhole(
        'embeddings',
        request.model,
        options,
        (deployment, signal) => client.embed(request, deployment, upstreamOptions(options, signal)),
        (response) => ({ ...emptyUsage, inputTokens: response.usage.prompt_tokens }),
        () => Math.ceil(JSON.stringify(request.input).length / 4),
      );
      // Providers without base64 output (Gemini) answer floats; the caller asked for base64.
      if (request.encoding_format === 'base64') {
        for (const item of result.response.data) {
          if (Array.isArray(item.embedding)) item.embedding = Buffer.from(new Float32Array(item.embedding).buffer).toString('base64');
        }
      }
      return result;
    },

    images(request: ImagesRequest, options: EngineCallOptions = {}): Promise<{ response: ImagesResponse; meta: CallMeta }> {
      return runWhole(
        'images',
        request.model,
        options,
        (deployment, signal) => client.images(request, deployment, upstreamOptions(options, signal)),
        (response) => ({ ...emptyUsage, inputTokens: response.usage?.input_tokens ?? 0, outputTokens: response.usage?.output_tokens ?? 0 }),
        () => Math.ceil(request.prompt.length / 4),
      );
    },

    /**
     * Starts a stream. Resolves once a deployment sent its first content chunk (or ended without
     * content): every failure before that (an error status, a reset, a cut or error event, a
     * first-token timeout) is retried and falls back like a whole call, and nothing has reached
     * the caller yet. After that, a failure throws from the iterator (the gateway turns it into an
     * error event), never a clean end. Usage is always captured; the usage-only chunk reaches the
     * caller only when the request asked for it (`stream_options.include_usage`). The breaker
     * records success only when the stream ended complete. Iterate `chunks` to its end or call
     * its `return()`: that releases the upstream socket and the call's slots.
     */
    async chatStream(request: ChatRequest, options: EngineCallOptions = {}): Promise<EngineChatStream> {
      const planned = planCache(request, options);
      if (planned === undefined) return streamUpstream(request, options, 'bypass');
      const { plan, control, exact, flights } = planned;
      const status = statusOf(plan);
      const startedAt = clock.now();
      const startedMonotonic = clock.monotonic();
      const wantsUsage = request.stream_options?.include_usage === true;
      const hit = await exact.lookup(plan);
      if (hit !== undefined) {
        const meta = serveHit(request, options, plan, hit, true, startedAt, startedMonotonic);
        const chunks = toChatChunks(hit.entry.answer);
        return {
          meta,
          chunks: (async function* () {
            for (const chunk of chunks) {
              const shown = presentChunk(chunk, wantsUsage);
              if (shown !== null) yield shown;
            }
          })(),
          done: Promise.resolve(meta),
        };
      }
      if (control.forceRefresh) await exact.invalidate(plan);
      // The shared upstream stream always carries usage (for the stored answer and for any caller
      // that asked for it); each caller's view drops it unless it asked.
      const upstreamRequest: ChatRequest = { ...request, stream_options: { ...(request.stream_options ?? {}), include_usage: true } };
      async function* source(signal: AbortSignal | undefined): AsyncGenerator<StreamItem> {
        const started = await streamUpstream(upstreamRequest, withSignal(options, signal), status);
        yield { kind: 'start', meta: started.meta, done: started.done };
        const seen: ChatChunk[] = [];
        for await (const chunk of started.chunks) {
          seen.push(chunk);
          yield { kind: 'chunk', chunk };
        }
        // Only a stream that ended complete is stored: a cut or failed one threw above.
        if (signal?.aborted === true) return;
        const meta = await started.done;
        await exact.store(plan, { kind: 'stream', chunks: seen }, avoidedBy(meta), originOf(meta)).catch(() => false);
      }
      const flight = plan.decision.joinInFlight ? flights.stream({ tenant: plan.scope.tenant, key: plan.key }, source, options.signal) : { chunks: source(options.signal), shared: false };
      const iterator = flight.chunks[Symbol.asyncIterator]();
      // Fails like an unshared stream when the upstream fails before its first content.
      const first = await iterator.next();
      if (first.done === true || first.value.kind !== 'start') {
        throw new PipewrightError({ code: 'gateway.internal', message: 'the shared stream ended before it started' });
      }
      const start = first.value;
      const meta = flight.shared ? joinedMeta(start.meta, options, startedMonotonic) : start.meta;
      async function* relay(): AsyncGenerator<ChatChunk> {
        try {
          for (;;) {
            const step = await iterator.next();
            if (step.done === true) return;
            if (step.value.kind !== 'chunk') continue;
            const shown = presentChunk(step.value.chunk, wantsUsage);
            if (shown !== null) yield shown;
          }
        } finally {
          await iterator.return?.();
        }
      }
      return {
        meta,
        chunks: finishWhenAbandoned(relay(), () => void Promise.resolve(iterator.return?.()).catch(() => undefined)),
        done: flight.shared ? start.done.then((final) => joinedMeta(final, options, startedMonotonic)) : start.done,
      };
    },
  };

  function chatUpstream(request: ChatRequest, options: EngineCallOptions, cacheStatus: CacheStatus): Promise<{ response: ChatResponse; meta: CallMeta }> {
    return runWhole(
      'chat',
      request.model,
      options,
      (deployment, signal) => client.chat(request, deployment, upstreamOptions(options, signal)),
      (response) => normalizeUsage(response.usage),
      () => estimateRequestTokens(request),
      cacheStatus,
    );
  }

  /**
   * The cache plan of a chat call, or undefined when nothing about the cache applies (no cache
   * configured, or a bypass that neither reads, writes nor joins a flight).
   */
  function planCache(request: ChatRequest, options: EngineCallOptions): { plan: CachePlan; control: CacheControl; exact: ExactCache; flights: SingleFlight } | undefined {
    const cache = dependencies.cache;
    if (cache === undefined) return undefined;
    const control = parseCacheControl(options.cache, 'cache');
    const group = catalog.resolve(request.model);
    let configFingerprint = fingerprints.get(group.name);
    if (configFingerprint === undefined) {
      configFingerprint = fingerprintConfig(group);
      fingerprints.set(group.name, configFingerprint);
    }
    const tenant = options.tenantId ?? dependencies.defaultTenantId;
    const plan = cache.exact.plan({ tenant, stepType: options.stepType ?? 'chat', modelGroup: group.name, configFingerprint }, request, control);
    if (plan.key === '') return undefined;
    return { plan, control, exact: cache.exact, flights: cache.flights };
  }

  /** Answers from a stored entry: no upstream call, nothing spent; records what it saved. */
  function serveHit(request: ChatRequest, options: EngineCallOptions, plan: CachePlan, hit: ExactCacheHit, streamed: boolean, startedAt: number, startedMonotonic: number): CallMeta {
    const origin = hit.entry.origin;
    const meta: CallMeta = {
      tenantId: plan.scope.tenant,
      requestId: options.requestId ?? createId('req'),
      traceId: options.traceId ?? createTraceId(),
      modelGroup: plan.scope.modelGroup,
      provider: origin?.provider ?? 'cache',
      model: origin?.model ?? request.model,
      deployment: origin?.deployment ?? 'cache',
      simulated: origin?.simulated ?? false,
      usage: { ...emptyUsage },
      costUsd: 0,
      latencyMs: clock.monotonic() - startedMonotonic,
      upstreamMs: 0,
      timeToFirstTokenMs: null,
      cacheStatus: 'hit',
      savedCostUsd: hit.entry.avoided.costUsd,
      savedLatencyMs: hit.entry.avoided.latencyMs,
      attempts: [],
    };
    const callRecord: CallRecord = {
      id: createId('call'),
      time: startedAt,
      tenantId: meta.tenantId,
      requestId: meta.requestId,
      traceId: meta.traceId,
      operation: 'chat',
      stepType: options.stepType ?? null,
      modelGroup: meta.modelGroup,
      // No deployment was called: the GenAI upstream metrics skip records without a provider.
      provider: null,
      model: origin?.model ?? null,
      deployment: null,
      streamed,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      latencyMs: meta.latencyMs,
      timeToFirstTokenMs: null,
      costUsd: 0,
      cacheStatus: 'hit',
      savedCostUsd: meta.savedCostUsd,
      savedLatencyMs: meta.savedLatencyMs,
      outcome: 'success',
      errorCode: null,
      simulated: meta.simulated,
    };
    metrics?.observeCall(callRecord);
    recorder?.record(callRecord);
    return meta;
  }

  /** The meta a caller that joined an identical call in flight receives: the shared call's, under its own ids. */
  function joinedMeta(shared: CallMeta, options: EngineCallOptions, startedMonotonic: number): CallMeta {
    return {
      ...shared,
      tenantId: options.tenantId ?? dependencies.defaultTenantId,
      requestId: options.requestId ?? createId('req'),
      traceId: options.traceId ?? createTraceId(),
      latencyMs: clock.monotonic() - startedMonotonic,
      attempts: [...shared.attempts],
    };
  }

    /**
     * Starts a stream. Resolves once a deployment sent its first content chunk (or ended without
     * content): every failure before that (an error status, a reset, a cut or error event, a
     * first-token timeout) is retried and falls back like a whole call, and nothing has reached
     * the caller yet. After that, a failure throws from the iterator (the gateway turns it into an
     * error event), never a clean end. Usage is always captured; the usage-only chunk reaches the
     * caller only when the request asked for it (`stream_options.include_usage`). The breaker
     * records success only when the stream ended complete. Iterate `chunks` to its end or call
     * its `return()`: that releases the upstream socket and the call's slots.
     */
  async function streamUpstream(request: ChatRequest, options: EngineCallOptions, cacheStatus: CacheStatus): Promise<EngineChatStream> {
      const scope = await openScope(request.model, options, () => estimateRequestTokens(request), cacheStatus);
      let lastDeployment: Deployment | null = null;
      let opened: Answered<OpenedStream>;
      try {
        opened = await execute(
          scope,
          true,
          async (deployment, guard) => openUntilFirstContent(scope, guard, await guard.step(client.chatStream(request, deployment, upstreamOptions(options, guard.signal)))),
          (deployment) => {
            lastDeployment = deployment;
          },
        );
      } catch (error) {
        const failure = toPipewrightError(error);
        record(scope, 'chat', true, null, failure, lastDeployment);
        closeScope(scope);
        throw failure;
      }
      const { deployment, attempts, guard } = opened;
      const { iterator, buffer } = opened.value;
      resilience.observeHeaders(deployment.id, opened.value.upstream.headers);
      const headerMs = opened.upstreamMs;
      const wantsUsage = request.stream_options?.include_usage === true;
      const initialMeta = buildMeta(scope, deployment, attempts, { ...emptyUsage }, headerMs, opened.value.firstTokenMs);
      let resolveDone: (meta: CallMeta) => void = () => undefined;
      const done = new Promise<CallMeta>((resolve) => {
        resolveDone = resolve;
      });
      const streamStart = clock.monotonic();
      let usage: TokenUsage = { ...emptyUsage };
      let finished = false;

      /** Settles the breaker and slots, records telemetry and resolves `done`: once, however the stream ends. */
      function finish(failure: PipewrightError | null, completed: boolean): void {
        if (finished) return;
        finished = true;
        if (!completed) void Promise.resolve(iterator.return?.()).catch(() => undefined);
        let recorded = failure;
        scope.usedTokens = usage.inputTokens + usage.outputTokens;
        if (completed) {
          opened.settle({ outcome: 'success', latencyMs: clock.monotonic() - streamStart + headerMs, tokens: scope.usedTokens });
        } else if (failure !== null && ProviderError.isProviderError(failure) && failure.kind !== 'aborted') {
          opened.settle({ outcome: 'failure', error: failure });
        } else {
          opened.settle({ outcome: 'neutral' });
          if (recorded === null && options.signal?.aborted === true) {
            recorded = new ProviderError({ kind: 'aborted', message: 'the client aborted the stream', provider: deployment.provider, deployment: deployment.id });
          }
        }
        const meta = buildMeta(scope, deployment, attempts, usage, headerMs + (clock.monotonic() - streamStart), opened.value.firstTokenMs);
        record(scope, 'chat', true, meta, recorded, deployment);
        closeScope(scope);
        resolveDone(meta);
      }

      function present(chunk: ChatChunk): ChatChunk | null {
        if (chunk.usage !== undefined && chunk.usage !== null) usage = normalizeUsage(chunk.usage);
        if (chunk.choices.length === 0 && !wantsUsage) return null;
        if (!wantsUsage && chunk.usage !== undefined) {
          const { usage: _usage, ...rest } = chunk;
          return rest;
        }
        return chunk;
      }

      async function* relay(): AsyncGenerator<ChatChunk> {
        let failure: PipewrightError | null = null;
        let completed = false;
        try {
          for (const chunk of buffer) {
            const shown = present(chunk);
            if (shown !== null) yield shown;
          }
          if (!opened.value.ended) {
            for (;;) {
              const step = await guard.step(iterator.next());
              if (step.done === true) break;
              const shown = present(step.value);
              if (shown !== null) yield shown;
            }
          }
          completed = true;
        } catch (error) {
          const cause = attemptError(scope, error, deployment);
          failure = withAttempts(cause, attempts);
          throw failure;
        } finally {
          // Runs on completion, failure, and when the consumer stops early (client gone).
          finish(failure, completed);
        }
      }
      return { meta: initialMeta, chunks: finishWhenAbandoned(relay(), () => finish(null, false)), done };
  }

  /** Reads a started stream until its first content chunk, buffering what came before (role, usage). */
  async function openUntilFirstContent(scope: CallScope, guard: AttemptGuard, started: ChatStreamResult): Promise<OpenedStream> {
    const iterator = started.chunks[Symbol.asyncIterator]();
    const buffer: ChatChunk[] = [];
    try {
      for (;;) {
        const step = await guard.step(iterator.next());
        if (step.done === true) return { upstream: started.meta, iterator, buffer, ended: true, firstTokenMs: null };
        buffer.push(step.value);
        if (step.value.choices.some((choice) => hasContent(choice.delta))) {
          guard.firstContent();
          return { upstream: started.meta, iterator, buffer, ended: false, firstTokenMs: clock.monotonic() - scope.startedMonotonic };
        }
      }
    } catch (error) {
      // Releases the upstream socket; not awaited, since a source that ignores its signal may never settle.
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
      throw error;
    }
  }
}

/** A stream opened up to its first content chunk. */
interface OpenedStream {
  /** The upstream's status and headers (rate-limit headers feed the resilience layer). */
  upstream: UpstreamMeta;
  iterator: AsyncIterator<ChatChunk>;
  /** Chunks read before (and including) the first content chunk. */
  buffer: ChatChunk[];
  /** The stream ended before any content. */
  ended: boolean;
  firstTokenMs: number | null;
}

/**
 * A generator's `finally` never runs if it was never started; a caller that drops the stream
 * without reading it must still release the upstream socket and the call's slots.
 */
function finishWhenAbandoned(generator: AsyncGenerator<ChatChunk>, onAbandoned: () => void): AsyncGenerator<ChatChunk> {
  let started = false;
  const wrapper: AsyncGenerator<ChatChunk> = {
    next() {
      started = true;
      return generator.next();
    },
    return(value) {
      if (!started) onAbandoned();
      return generator.return(value);
    },
    throw(error: unknown) {
      if (!started) onAbandoned();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return wrapper;
    },
  };
  return wrapper;
}

export type CallPipeline = ReturnType<typeof createCallPipeline>;

/** What a (possibly shared) upstream stream carries: its start (meta) once, then its chunks. */
type StreamItem = { kind: 'start'; meta: CallMeta; done: Promise<CallMeta> } | { kind: 'chunk'; chunk: ChatChunk };

function withSignal(options: EngineCallOptions, signal: AbortSignal | undefined): EngineCallOptions {
  if (signal === options.signal) return options;
  const { signal: _signal, ...rest } = options;
  return signal === undefined ? rest : { ...rest, signal };
}

/** A chunk as a caller sees it: the usage-only chunk and usage fields only when it asked for them. */
function presentChunk(chunk: ChatChunk, wantsUsage: boolean): ChatChunk | null {
  if (wantsUsage) return chunk;
  if (chunk.choices.length === 0) return null;
  if (chunk.usage !== undefined) {
    const { usage: _usage, ...rest } = chunk;
    return rest;
  }
  return chunk;
}

/** `miss` when the cache was read and had nothing; `bypass` when it was not read at all. */
function statusOf(plan: CachePlan): CacheStatus {
  return plan.decision.read ? 'miss' : 'bypass';
}

function avoidedBy(meta: CallMeta): AvoidedCost {
  return { costUsd: meta.costUsd ?? 0, latencyMs: meta.latencyMs };
}

function originOf(meta: CallMeta): CacheOrigin {
  return { provider: meta.provider, model: meta.model, deployment: meta.deployment, simulated: meta.simulated };
}

function memoize(compute: () => number): () => number {
  let value: number | undefined;
  return () => (value ??= compute());
}

function hasContent(delta: ChatChunk['choices'][number]['delta']): boolean {
  return (typeof delta.content === 'string' && delta.content.length > 0) || (delta.tool_calls !== undefined && delta.tool_calls.length > 0);
}

function skipped(deployment: Deployment, modelGroup: string, errorCode: 'gateway.circuit_open' | 'gateway.overloaded' | 'gateway.rate_limited'): CallAttempt {
  return { deployment: deployment.id, provider: deployment.provider, modelGroup, errorCode, errorKind: null, durationMs: 0, retry: false };
}

function createCircuitOpenError(modelGroup: string, retryInMs: number | null, reason: string): PipewrightError {
  return new PipewrightError({
    code: 'gateway.circuit_open',
    message: `every deployment of model group ${modelGroup} is unavailable (circuit breaker open; ${reason})${retryInMs === null ? '' : `; the first is probed again in ${Math.ceil(retryInMs)} ms`}`,
    ...(retryInMs === null ? {} : { details: { retryAfterMs: retryInMs } }),
  });
}

/**
 * The error a caller sees when every route failed: the last error (a ProviderError stays one, so
 * its retry-after still reaches the gateway's headers), with every attempt in `details.attempts`.
 */
function withAttempts(error: PipewrightError, attempts: CallAttempt[]): PipewrightError {
  const details = { ...error.details, attempts: [...attempts] };
  const message = attempts.length <= 1 ? error.message : `${error.message} (after ${attempts.length} attempts: ${attempts.map((attempt) => `${attempt.deployment} ${attempt.errorCode ?? 'ok'}`).join(', ')})`;
  if (ProviderError.isProviderError(error)) return new ProviderError({ ...error.toOptions(), message, details, cause: error });
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
