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
import type { CallAttempt, CallMeta, EngineCallOptions } from './engine-types.ts';
import type { ModelCatalog, ModelGroup } from './model-catalog.ts';
import { createCachedChat, finishWhenAbandoned, type CachedChatDependencies, type ChatCache } from './cached-chat.ts';

export interface CallPipelineDependencies {
  catalog: ModelCatalog;
  client: ProviderClient;
  clock: Clock;
  defaultTenantId: string;
  resilience: Resilience;
  recorder?: TelemetryRecorder | undefined;
  metrics?: Metrics | undefined;
  prices?: PriceCatalog | undefined;
  /** The caches of chat calls (exact, single-flight, semantic); absent: no caching, no sharing. */
  cache?: ChatCache | undefined;
  /** A cache that failed (the call went on without it): for logs. */
  onCacheError?: CachedChatDependencies['onCacheError'];
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
  // The cache layer sits in front of the resilience pipeline; it calls back into it on a miss.
  const cached =
    dependencies.cache === undefined
      ? undefined
      : createCachedChat({ cache: dependencies.cache, catalog, clock, defaultTenantId: dependencies.defaultTenantId, recorder, metrics, chatUpstream, streamUpstream, onCacheError: dependencies.onCacheError });

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

    chat(request: ChatRequest, options: EngineCallOptions = {}): Promise<{ response: ChatResponse; meta: CallMeta }> {
      return cached === undefined ? chatUpstream(request, options, 'bypass') : cached.chat(request, options);
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

  /** A stream through the resilience pipeline, without the cache (see `chatStream`). */
    chatStream(request: ChatRequest, options: EngineCallOptions = {}): Promise<EngineChatStream> {
      return cached === undefined ? streamUpstream(request, options, 'bypass') : cached.chatStream(request, options);
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

  /** A stream through the resilience pipeline, without the cache (see `chatStream`). */
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

export type CallPipeline = ReturnType<typeof createCallPipeline>;

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
