import { createId, createTraceId, PipewrightError, toPipewrightError, type Clock } from '../core/index.ts';
import { emptyUsage, type ChatChunk, type ChatRequest, type ChatResponse } from '../spec/index.ts';
import type { CacheEvent, CacheStatus, CallRecord, Metrics, TelemetryRecorder } from '../telemetry/index.ts';
import {
  fingerprintConfig,
  parseCacheControl,
  toChatChunks,
  toChatResponse,
  type AvoidedCost,
  type CachedAnswer,
  type CacheOrigin,
  type CachePlan,
  type ExactCache,
  type SemanticCache,
  type SemanticHit,
  type SingleFlight,
} from '../cache/index.ts';
import type { CallMeta, EngineCallOptions, SemanticMatch } from './engine-types.ts';
import type { ModelCatalog } from './model-catalog.ts';
import type { EngineChatStream } from './call-pipeline.ts';

/** What a cache failure interrupted (the call itself always goes on). */
export type CacheOperation = 'semantic-lookup' | 'semantic-store' | 'semantic-restore' | 'exact-store';

const failureEvents: Readonly<Record<CacheOperation, CacheEvent>> = {
  'semantic-lookup': 'semantic_lookup_failed',
  'semantic-store': 'semantic_store_failed',
  'semantic-restore': 'semantic_restore_failed',
  'exact-store': 'exact_store_failed',
};

/** The caches of chat calls: exact (always), single-flight, and the semantic cache when configured. */
export interface ChatCache {
  exact: ExactCache;
  flights: SingleFlight;
  semantic?: SemanticCache | undefined;
}

export interface CachedChatDependencies {
  cache: ChatCache;
  catalog: ModelCatalog;
  clock: Clock;
  defaultTenantId: string;
  recorder?: TelemetryRecorder | undefined;
  metrics?: Metrics | undefined;
  /** A whole chat call through the resilience pipeline (records its own telemetry). */
  chatUpstream(
    request: ChatRequest,
    options: EngineCallOptions,
    cacheStatus: CacheStatus,
  ): Promise<{ response: ChatResponse; meta: CallMeta }>;
  /** A streamed chat call through the resilience pipeline (records its own telemetry). */
  streamUpstream(
    request: ChatRequest,
    options: EngineCallOptions,
    cacheStatus: CacheStatus,
  ): Promise<EngineChatStream>;
  /** Called when the semantic cache fails (embedder down, index error): the call goes on uncached. */
  onCacheError?: ((error: unknown, operation: CacheOperation) => void) | undefined;
}

/** What a served hit was: an exact entry or a semantic neighbour (possibly as a degraded answer). */
interface ServedHit {
  status: 'hit' | 'semantic-hit';
  answer: CachedAnswer;
  avoided: AvoidedCost;
  origin: CacheOrigin | undefined;
  semantic?: SemanticMatch;
}

/** A planned cached call: the exact plan, the request's directives and the semantic lookup's state. */
interface Planned {
  plan: CachePlan;
  forceRefresh: boolean;
  /** The request's embedding from the semantic lookup, reused when storing. */
  vector?: Float32Array | undefined;
}

/**
 * Degraded answers (every route failed) are confidence-scaled by this factor: a neighbour served
 * because nothing else could answer is less trustworthy than one served on a cache policy.
 */
const degradedConfidenceFactor = 0.5;

/**
 * The cache layer of chat calls, in front of the resilience pipeline: exact lookup, then semantic
 * lookup, then one upstream call shared by identical concurrent callers (single-flight); the fresh
 * answer is stored in both caches. When every route fails with an outage-class error and the
 * semantic cache is on, the nearest acceptable neighbour is served instead, marked degraded and
 * with lower confidence.
 */
export function createCachedChat(dependencies: CachedChatDependencies) {
  const { cache, catalog, clock, recorder, metrics } = dependencies;
  const { exact, flights, semantic } = cache;
  /** Config fingerprints of the model groups (fixed for the engine's life), computed once each. */
  const fingerprints = new Map<string, string>();
  const reportError = (error: unknown, operation: CacheOperation) => {
    metrics?.observeCacheEvent(failureEvents[operation]);
    dependencies.onCacheError?.(error, operation);
  };

  /** The plan of a chat call, or undefined when the cache does nothing for it (a plain bypass). */
  function planCache(request: ChatRequest, options: EngineCallOptions): Planned | undefined {
    const control = parseCacheControl(options.cache, 'cache');
    const group = catalog.resolve(request.model);
    let configFingerprint = fingerprints.get(group.name);
    if (configFingerprint === undefined) {
      configFingerprint = fingerprintConfig(group);
      fingerprints.set(group.name, configFingerprint);
    }
    const tenant = options.tenantId ?? dependencies.defaultTenantId;
    const plan = exact.plan(
      { tenant, stepType: options.stepType ?? 'chat', modelGroup: group.name, configFingerprint },
      request,
      control,
    );
    if (plan.key === '') return undefined;
    return { plan, forceRefresh: control.forceRefresh };
  }

  /** An exact hit, else a semantic hit when the plan reads semantically; remembers the embedding for the store. */
  async function lookup(
    planned: Planned,
    request: ChatRequest,
    signal: AbortSignal | undefined,
  ): Promise<ServedHit | undefined> {
    const { plan } = planned;
    const hit = await exact.lookup(plan);
    if (hit !== undefined)
      return {
        status: 'hit',
        answer: hit.entry.answer,
        avoided: hit.entry.avoided,
        origin: hit.entry.origin,
      };
    if (semantic === undefined || !plan.decision.semantic) return undefined;
    try {
      const found = await semantic.lookup(plan.scope, request, plan.rule.semantic, signal);
      if (found.hit) return semanticServed(found, false);
      planned.vector = found.vector;
    } catch (error) {
      if (signal?.aborted === true) throw error;
      reportError(error, 'semantic-lookup');
    }
    return undefined;
  }

  /** Stores a fresh answer in the exact cache and, when the rule enables it, the semantic cache. */
  async function store(
    planned: Planned,
    request: ChatRequest,
    answer: CachedAnswer,
    meta: CallMeta,
  ): Promise<void> {
    const { plan } = planned;
    const avoided = avoidedBy(meta);
    const origin = originOf(meta);
    // A cache that fails to store must not fail a call that succeeded.
    await exact
      .store(plan, answer, avoided, origin)
      .catch((error: unknown) => reportError(error, 'exact-store'));
    if (semantic === undefined || !plan.rule.semantic.enabled || !plan.decision.write) return;
    const options = {
      ttlMs: plan.decision.ttlMs,
      multiTurn: plan.rule.semantic.multiTurn,
      origin,
      ...(planned.vector === undefined ? {} : { vector: planned.vector }),
    };
    // The semantic cache holds answers as objects: keep its own copy, apart from the one the caller gets.
    await semantic
      .store(plan.scope, request, structuredClone(answer), avoided, options)
      .catch((error: unknown) => reportError(error, 'semantic-store'));
  }

  /**
   * After every route failed: the nearest neighbour the rule guard accepts at the rule's fallback
   * threshold, or undefined. Only for outage-class failures (overload, 5xx, rate limits, open
   * breakers, deadlines), never for errors about the request itself, a caller's abort, or a
   * request that asked not to be served from the cache.
   */
  async function degrade(
    planned: Planned,
    request: ChatRequest,
    error: unknown,
    signal: AbortSignal | undefined,
  ): Promise<ServedHit | undefined> {
    const { rule, decision } = planned.plan;
    // `no-cache` and `force-refresh` asked for a fresh answer: the error is the honest reply.
    if (
      semantic === undefined ||
      !rule.semantic.enabled ||
      !rule.semantic.fallbackOnError ||
      !decision.read ||
      signal?.aborted === true
    )
      return undefined;
    const failure = toPipewrightError(error);
    if (!isOutage(failure)) return undefined;
    try {
      // The rule guard, not the learned verifier: its cut is for serving instead of calling, too strict for serving instead of an error.
      const settings = { ...rule.semantic, threshold: rule.semantic.fallbackThreshold, relaxed: true };
      // The embedding from the first lookup: the embedder may be down with the same provider.
      const found = await semantic.lookup(planned.plan.scope, request, settings, undefined, planned.vector);
      return found.hit ? semanticServed(found, true) : undefined;
    } catch (lookupError) {
      reportError(lookupError, 'semantic-lookup');
      return undefined;
    }
  }

  return {
    async chat(
      request: ChatRequest,
      options: EngineCallOptions,
    ): Promise<{ response: ChatResponse; meta: CallMeta }> {
      const planned = planCache(request, options);
      if (planned === undefined) return dependencies.chatUpstream(request, options, 'bypass');
      const { plan } = planned;
      const status = statusOf(plan);
      const startedAt = clock.now();
      const startedMonotonic = clock.monotonic();
      const hit = await lookup(planned, request, options.signal);
      if (hit !== undefined)
        return {
          response: toChatResponse(hit.answer),
          meta: serveHit(request, options, plan, hit, false, startedAt, startedMonotonic),
        };
      if (planned.forceRefresh) await exact.invalidate(plan);
      const source = async (signal: AbortSignal | undefined) => {
        const result = await dependencies.chatUpstream(request, withSignal(options, signal), status);
        await store(planned, request, { kind: 'response', response: result.response }, result.meta);
        return result;
      };
      try {
        if (!plan.decision.joinInFlight) return await source(options.signal);
        const { value, shared } = await flights.run(
          { tenant: plan.scope.tenant, key: plan.key },
          source,
          options.signal,
        );
        if (!shared) return value;
        // Each caller gets its own copy and its own ids; the joiner's record shows what it saved.
        const meta = joinedMeta(value.meta, options, startedMonotonic);
        recordJoin(meta, options, false, startedAt);
        return { response: structuredClone(value.response), meta };
      } catch (error) {
        const degraded = await degrade(planned, request, error, options.signal);
        if (degraded === undefined) throw error;
        metrics?.observeCacheEvent('degraded_answer');
        return {
          response: toChatResponse(degraded.answer),
          meta: serveHit(request, options, plan, degraded, false, startedAt, startedMonotonic),
        };
      }
    },

    async chatStream(request: ChatRequest, options: EngineCallOptions): Promise<EngineChatStream> {
      const planned = planCache(request, options);
      if (planned === undefined) return dependencies.streamUpstream(request, options, 'bypass');
      const current = planned;
      const { plan } = current;
      const status = statusOf(plan);
      const startedAt = clock.now();
      const startedMonotonic = clock.monotonic();
      const wantsUsage = request.stream_options?.include_usage === true;
      const replay = (served: ServedHit): EngineChatStream => {
        const meta = serveHit(request, options, plan, served, true, startedAt, startedMonotonic);
        const chunks = toChatChunks(served.answer);
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
      };
      const hit = await lookup(planned, request, options.signal);
      if (hit !== undefined) return replay(hit);
      if (planned.forceRefresh) await exact.invalidate(plan);
      // The shared upstream stream always carries usage (for the stored answer and for any caller
      // that asked for it); each caller's view drops it unless it asked.
      const upstreamRequest: ChatRequest = {
        ...request,
        stream_options: { ...(request.stream_options ?? {}), include_usage: true },
      };
      async function* source(signal: AbortSignal | undefined): AsyncGenerator<StreamItem> {
        const started = await dependencies.streamUpstream(
          upstreamRequest,
          withSignal(options, signal),
          status,
        );
        yield { kind: 'start', meta: started.meta, done: started.done };
        const seen: ChatChunk[] = [];
        for await (const chunk of started.chunks) {
          seen.push(chunk);
          yield { kind: 'chunk', chunk };
        }
        // Only a stream that ended complete is stored: a cut or failed one threw above.
        if (signal?.aborted === true) return;
        await store(current, request, { kind: 'stream', chunks: seen }, await started.done);
      }
      const flight = plan.decision.joinInFlight
        ? flights.stream({ tenant: plan.scope.tenant, key: plan.key }, source, options.signal)
        : { chunks: source(options.signal), shared: false };
      const iterator = flight.chunks[Symbol.asyncIterator]();
      let first: IteratorResult<StreamItem>;
      try {
        // Fails like an unshared stream when the upstream fails before its first content.
        first = await iterator.next();
      } catch (error) {
        const degraded = await degrade(planned, request, error, options.signal);
        if (degraded === undefined) throw error;
        metrics?.observeCacheEvent('degraded_answer');
        return replay(degraded);
      }
      if (first.done === true || first.value.kind !== 'start') {
        throw new PipewrightError({
          code: 'gateway.internal',
          message: 'the shared stream ended before it started',
        });
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
      const done = flight.shared
        ? start.done.then((final) => {
            const joined = joinedMeta(final, options, startedMonotonic);
            recordJoin(joined, options, true, startedAt);
            return joined;
          })
        : start.done;
      return {
        meta,
        chunks: finishWhenAbandoned(
          relay(),
          () => void Promise.resolve(iterator.return?.()).catch(() => undefined),
        ),
        done,
      };
    },
  };

  /** Answers from a stored entry: no upstream call, nothing spent; records what it saved. */
  function serveHit(
    request: ChatRequest,
    options: EngineCallOptions,
    plan: CachePlan,
    hit: ServedHit,
    streamed: boolean,
    startedAt: number,
    startedMonotonic: number,
  ): CallMeta {
    const origin = hit.origin;
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
      cacheStatus: hit.status,
      savedCostUsd: hit.avoided.costUsd,
      savedLatencyMs: hit.avoided.latencyMs,
      attempts: [],
    };
    if (hit.semantic !== undefined) meta.semantic = hit.semantic;
    record(meta, options, streamed, startedAt, origin?.model ?? null);
    return meta;
  }

  /** A caller that joined an identical call in flight: no upstream call of its own, the shared call's cost saved. */
  function recordJoin(
    meta: CallMeta,
    options: EngineCallOptions,
    streamed: boolean,
    startedAt: number,
  ): void {
    record(
      { ...meta, usage: { ...emptyUsage }, costUsd: 0, savedCostUsd: meta.costUsd, savedLatencyMs: 0 },
      options,
      streamed,
      startedAt,
      meta.model,
    );
  }

  function record(
    meta: CallMeta,
    options: EngineCallOptions,
    streamed: boolean,
    startedAt: number,
    model: string | null,
  ): void {
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
      model,
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
      cacheStatus: meta.cacheStatus,
      savedCostUsd: meta.savedCostUsd,
      savedLatencyMs: meta.savedLatencyMs,
      outcome: 'success',
      errorCode: null,
      simulated: meta.simulated,
    };
    metrics?.observeCall(callRecord);
    recorder?.record(callRecord);
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
}

export type CachedChat = ReturnType<typeof createCachedChat>;

/** What a (possibly shared) upstream stream carries: its start (meta) once, then its chunks. */
type StreamItem =
  { kind: 'start'; meta: CallMeta; done: Promise<CallMeta> } | { kind: 'chunk'; chunk: ChatChunk };

function semanticServed(found: SemanticHit, degraded: boolean): ServedHit {
  return {
    status: 'semantic-hit',
    // The semantic cache holds its entries in memory: each caller gets its own copy.
    answer: structuredClone(found.answer),
    avoided: found.avoided,
    origin: found.origin,
    semantic: {
      similarity: found.similarity,
      confidence: degraded ? found.confidence * degradedConfidenceFactor : found.confidence,
      matchedText: found.matchedText,
      degraded,
    },
  };
}

/** Failures where no route could answer (so an older, similar answer is better than none). */
function isOutage(error: PipewrightError): boolean {
  return error.status === 429 || error.status >= 500;
}

/** `miss` when the cache was read and had nothing; `bypass` when it was not read at all. */
function statusOf(plan: CachePlan): CacheStatus {
  return plan.decision.read ? 'miss' : 'bypass';
}

function avoidedBy(meta: CallMeta): AvoidedCost {
  return { costUsd: meta.costUsd ?? 0, latencyMs: meta.latencyMs };
}

function originOf(meta: CallMeta): CacheOrigin {
  return {
    provider: meta.provider,
    model: meta.model,
    deployment: meta.deployment,
    simulated: meta.simulated,
  };
}

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

/**
 * A generator's `finally` never runs if it was never started; a caller that drops the stream
 * without reading it must still release the upstream socket and the call's slots.
 */
export function finishWhenAbandoned(
  generator: AsyncGenerator<ChatChunk>,
  onAbandoned: () => void,
): AsyncGenerator<ChatChunk> {
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
