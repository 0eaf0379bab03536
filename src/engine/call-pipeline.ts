import {
  createId,
  createTraceId,
  ProviderError,
  toPipewrightError,
  type Clock,
  type PipewrightError,
} from '../core/index.ts';
import type { ChatStreamResult, Deployment, ProviderClient, UpstreamMeta } from '../providers/index.ts';
import {
  createDeadline,
  estimateRequestTokens,
  type AttemptGuard,
  type RateLimitReservation,
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
import type {
  CacheStatus,
  CallOperation,
  CallRecord,
  Metrics,
  PriceCatalog,
  TelemetryRecorder,
} from '../telemetry/index.ts';
import type { CallAttempt, CallMeta, EngineCallOptions } from './engine-types.ts';
import type { ModelCatalog } from './model-catalog.ts';
import { createAttemptLoop, withAttempts, type Answered, type AttemptScope } from './attempt-loop.ts';
import {
  createCachedChat,
  finishWhenAbandoned,
  type CachedChatDependencies,
  type ChatCache,
} from './cached-chat.ts';

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

/** One call through the pipeline: its ids, timing, slots and reservations (see AttemptScope for the rest). */
interface CallScope extends AttemptScope {
  requestId: string;
  traceId: string;
  startedAt: number;
  startedMonotonic: number;
  /** The tenant bulkhead key when this call holds a tenant slot. */
  tenantSlot: string | null;
  tenantReservation: RateLimitReservation | null;
  /** The real token usage, once known; settles the rate-limit reservations. */
  usedTokens: number;
  cacheStatus: CacheStatus;
}

/**
 * The one place the call pipeline is composed: the cache layer (cached-chat.ts) in front; per
 * call a deadline and the tenant's bulkhead and rate limit; the attempt loop (attempt-loop.ts:
 * load-balanced order, breakers, deployment bulkheads and limits, retries, fallback chains); then
 * prices the usage and records telemetry. Routing and gates plug in here.
 */
export function createCallPipeline(dependencies: CallPipelineDependencies) {
  const { catalog, client, clock, recorder, metrics, prices, resilience } = dependencies;
  const { bulkhead } = resilience;
  const { execute, attemptError } = createAttemptLoop({ catalog, clock, resilience });
  // The cache layer sits in front of the resilience pipeline; it calls back into it on a miss.
  const cached =
    dependencies.cache === undefined
      ? undefined
      : createCachedChat({
          cache: dependencies.cache,
          catalog,
          clock,
          defaultTenantId: dependencies.defaultTenantId,
          recorder,
          metrics,
          chatUpstream,
          streamUpstream,
          onCacheError: dependencies.onCacheError,
        });

  async function openScope(
    modelGroup: string,
    options: EngineCallOptions,
    estimate: () => number,
    cacheStatus: CacheStatus,
  ): Promise<CallScope> {
    const group = catalog.resolve(modelGroup);
    const tenantId = options.tenantId ?? dependencies.defaultTenantId;
    const deadline = createDeadline({
      clock,
      timeoutMs: resilience.deadlineFor(options.stepType, options.deadlineMs),
      signal: options.signal,
    });
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
      const maxWaitMs =
        resilience.tenants.overflow === 'reject'
          ? 0
          : Math.min(resilience.tenants.maxQueueMs, deadline.remainingMs());
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
      const maxWaitMs =
        resilience.tenants.overflow === 'reject'
          ? 0
          : Math.min(resilience.tenants.maxQueueMs, deadline.remainingMs());
      try {
        scope.tenantReservation = await resilience.rateLimiter.acquire(
          `tenant:${tenantId}`,
          tenantLimits,
          scope.estimateTokens(),
          { maxWaitMs, signal: deadline.signal },
        );
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

  function buildMeta(
    scope: CallScope,
    deployment: Deployment,
    attempts: CallAttempt[],
    usage: TokenUsage,
    upstreamMs: number,
    timeToFirstTokenMs: number | null,
  ): CallMeta {
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

  function record(
    scope: CallScope,
    operation: CallOperation,
    streamed: boolean,
    meta: CallMeta | null,
    error: PipewrightError | null,
    lastDeployment: Deployment | null,
  ): void {
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

  async function runWhole<T>(
    operation: CallOperation,
    modelGroup: string,
    options: EngineCallOptions,
    call: (
      deployment: Deployment,
      signal: AbortSignal | undefined,
    ) => Promise<{ response: T; meta: UpstreamMeta }>,
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
      result.settle({
        outcome: 'success',
        latencyMs: result.attempts.at(-1)?.durationMs ?? 0,
        tokens: scope.usedTokens,
      });
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
    recordExternal(call: {
      operation?: CallOperation;
      tenantId?: string;
      requestId: string;
      traceId: string;
      stepType: string;
      modelGroup: string;
      model: string | null;
      usage: TokenUsage;
      latencyMs: number;
      startedAt: number;
      error: PipewrightError | null;
    }): void {
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
        costUsd:
          call.model === null || prices === undefined
            ? null
            : prices.costOf('external', call.model, call.usage),
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

    chat(
      request: ChatRequest,
      options: EngineCallOptions = {},
    ): Promise<{ response: ChatResponse; meta: CallMeta }> {
      return cached === undefined ? chatUpstream(request, options, 'bypass') : cached.chat(request, options);
    },

    async embed(
      request: EmbeddingsRequest,
      options: EngineCallOptions = {},
    ): Promise<{ response: EmbeddingsResponse; meta: CallMeta }> {
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
          if (Array.isArray(item.embedding))
            item.embedding = Buffer.from(new Float32Array(item.embedding).buffer).toString('base64');
        }
      }
      return result;
    },

    images(
      request: ImagesRequest,
      options: EngineCallOptions = {},
    ): Promise<{ response: ImagesResponse; meta: CallMeta }> {
      return runWhole(
        'images',
        request.model,
        options,
        (deployment, signal) => client.images(request, deployment, upstreamOptions(options, signal)),
        (response) => ({
          ...emptyUsage,
          inputTokens: response.usage?.input_tokens ?? 0,
          outputTokens: response.usage?.output_tokens ?? 0,
        }),
        () => Math.ceil(request.prompt.length / 4),
      );
    },

    /** A stream through the resilience pipeline, without the cache (see `chatStream`). */
    chatStream(request: ChatRequest, options: EngineCallOptions = {}): Promise<EngineChatStream> {
      return cached === undefined
        ? streamUpstream(request, options, 'bypass')
        : cached.chatStream(request, options);
    },
  };

  function chatUpstream(
    request: ChatRequest,
    options: EngineCallOptions,
    cacheStatus: CacheStatus,
  ): Promise<{ response: ChatResponse; meta: CallMeta }> {
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
  async function streamUpstream(
    request: ChatRequest,
    options: EngineCallOptions,
    cacheStatus: CacheStatus,
  ): Promise<EngineChatStream> {
    const scope = await openScope(request.model, options, () => estimateRequestTokens(request), cacheStatus);
    let lastDeployment: Deployment | null = null;
    let opened: Answered<OpenedStream>;
    try {
      opened = await execute(
        scope,
        true,
        async (deployment, guard) =>
          openUntilFirstContent(
            scope,
            guard,
            await guard.step(client.chatStream(request, deployment, upstreamOptions(options, guard.signal))),
          ),
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
    const initialMeta = buildMeta(
      scope,
      deployment,
      attempts,
      { ...emptyUsage },
      headerMs,
      opened.value.firstTokenMs,
    );
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
        opened.settle({
          outcome: 'success',
          latencyMs: clock.monotonic() - streamStart + headerMs,
          tokens: scope.usedTokens,
        });
      } else if (failure !== null && ProviderError.isProviderError(failure) && failure.kind !== 'aborted') {
        opened.settle({ outcome: 'failure', error: failure });
      } else {
        opened.settle({ outcome: 'neutral' });
        if (recorded === null && options.signal?.aborted === true) {
          recorded = new ProviderError({
            kind: 'aborted',
            message: 'the client aborted the stream',
            provider: deployment.provider,
            deployment: deployment.id,
          });
        }
      }
      const meta = buildMeta(
        scope,
        deployment,
        attempts,
        usage,
        headerMs + (clock.monotonic() - streamStart),
        opened.value.firstTokenMs,
      );
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
  async function openUntilFirstContent(
    scope: CallScope,
    guard: AttemptGuard,
    started: ChatStreamResult,
  ): Promise<OpenedStream> {
    const iterator = started.chunks[Symbol.asyncIterator]();
    const buffer: ChatChunk[] = [];
    try {
      for (;;) {
        const step = await guard.step(iterator.next());
        if (step.done === true)
          return { upstream: started.meta, iterator, buffer, ended: true, firstTokenMs: null };
        buffer.push(step.value);
        if (step.value.choices.some((choice) => hasContent(choice.delta))) {
          guard.firstContent();
          return {
            upstream: started.meta,
            iterator,
            buffer,
            ended: false,
            firstTokenMs: clock.monotonic() - scope.startedMonotonic,
          };
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
  return (
    (typeof delta.content === 'string' && delta.content.length > 0) ||
    (delta.tool_calls !== undefined && delta.tool_calls.length > 0)
  );
}
