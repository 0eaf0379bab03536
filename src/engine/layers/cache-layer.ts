import { PipewrightError, toPipewrightError, type Clock } from '../../core/index.ts';
import {
  fingerprintConfig,
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
} from '../../cache/index.ts';
import { emptyUsage, type CacheStatus, type ChatChunk, type ChatRequest } from '../../spec/index.ts';
import type { CacheEvent, Metrics } from '../../telemetry/index.ts';
import { withContext, type CallContext } from '../call-context.ts';
import type { CallAttempt, CallMeta, SemanticMatch } from '../engine-types.ts';
import {
  onlyChat,
  type ModelCall,
  type ModelLayer,
  type ModelStream,
  type Stream,
  type StreamEnd,
} from '../model.ts';

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

export interface CacheLayerDependencies {
  cache: ChatCache;
  clock: Clock;
  metrics?: Metrics | undefined;
  /** Called when a cache fails (embedder down, index error, store refused): the call goes on uncached. */
  onCacheError?: ((error: unknown, operation: CacheOperation) => void) | undefined;
}

/** What a served hit was: an exact entry or a semantic neighbour (possibly as a degraded answer). */
interface ServedHit {
  status: 'hit' | 'semantic-hit';
  answer: CachedAnswer;
  avoided: AvoidedCost;
  origin: CacheOrigin | undefined;
  semantic?: SemanticMatch;
  /** For a degraded answer: the attempts that failed before it. */
  attempts?: CallAttempt[];
}

/** A planned cached call: the exact plan and the semantic lookup's state. */
interface Planned {
  plan: CachePlan;
  /** The request's embedding from the semantic lookup, reused when storing. */
  vector?: Float32Array | undefined;
}

/**
 * Degraded answers (every route failed) are confidence-scaled by this factor: a neighbour served
 * because nothing else could answer is less trustworthy than one served on a cache policy.
 */
const degradedConfidenceFactor = 0.5;

/**
 * The cache layer of chat calls: exact lookup, then semantic lookup, then one upstream call
 * shared by identical concurrent callers (single-flight); a fresh answer is stored in both caches.
 * When every route failed with an outage-class error and the semantic cache is on, the nearest
 * acceptable neighbour is served instead, marked degraded and with lower confidence.
 */
// eslint-disable-next-line max-lines-per-function -- a factory: ten functions (stream 59 lines, degrade 34, the rest under 30) sharing the caches, the single-flight table and the fingerprint memo
export function createCacheLayer(dependencies: CacheLayerDependencies): ModelLayer {
  const { cache, clock, metrics } = dependencies;
  const { exact, flights, semantic } = cache;
  /** Config fingerprints of the model groups (fixed for the engine's life), computed once each. */
  const fingerprints = new Map<string, string>();
  const reportError = (error: unknown, operation: CacheOperation) => {
    metrics?.observeCacheEvent(failureEvents[operation]);
    dependencies.onCacheError?.(error, operation);
  };

  /** The plan of a chat call, or undefined when the cache does nothing for it (a plain bypass). */
  function planCache(call: ModelCall<'chat'>): Planned | undefined {
    const { context } = call;
    const group = context.group;
    let configFingerprint = fingerprints.get(group.name);
    if (configFingerprint === undefined) {
      configFingerprint = fingerprintConfig(group);
      fingerprints.set(group.name, configFingerprint);
    }
    const scope = {
      tenant: context.tenantId,
      stepType: context.stepType ?? 'chat',
      modelGroup: group.name,
      configFingerprint,
    };
    const plan = exact.plan(scope, call.request, context.cacheControl);
    if (plan.key === '') return undefined;
    return { plan };
  }

  /** An exact hit, else a semantic hit when the plan reads semantically; remembers the embedding for the store. */
  async function lookup(planned: Planned, call: ModelCall<'chat'>): Promise<ServedHit | undefined> {
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
    const signal = call.context.signal;
    try {
      const found = await semantic.lookup(plan.scope, call.request, plan.rule.semantic, signal);
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
    const avoided = { costUsd: meta.costUsd ?? 0, latencyMs: meta.latencyMs };
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
    call: ModelCall<'chat'>,
    error: unknown,
  ): Promise<ServedHit | undefined> {
    const { rule, decision } = planned.plan;
    // `no-cache` and `force-refresh` asked for a fresh answer: the error is the honest reply.
    if (
      semantic === undefined ||
      !rule.semantic.enabled ||
      !rule.semantic.fallbackOnError ||
      !decision.read ||
      call.context.signal?.aborted === true
    )
      return undefined;
    const failure = toPipewrightError(error);
    if (!isOutage(failure)) return undefined;
    try {
      // The rule guard, not the learned verifier: its cut is for serving instead of calling, too strict for serving instead of an error.
      const settings = { ...rule.semantic, threshold: rule.semantic.fallbackThreshold, relaxed: true };
      // The embedding from the first lookup: the embedder may be down with the same provider.
      const found = await semantic.lookup(
        planned.plan.scope,
        call.request,
        settings,
        undefined,
        planned.vector,
      );
      if (!found.hit) return undefined;
      metrics?.observeCacheEvent('degraded_answer');
      const attempts = failure.details?.['attempts'];
      return { ...semanticServed(found, true), attempts: Array.isArray(attempts) ? [...attempts] : [] };
    } catch (lookupError) {
      reportError(lookupError, 'semantic-lookup');
      return undefined;
    }
  }

  /** The meta of a call a stored entry answered: no upstream call, nothing spent, what it saved. */
  function hitMeta(context: CallContext, hit: ServedHit): CallMeta {
    const origin = hit.origin;
    const meta: CallMeta = {
      tenantId: context.tenantId,
      requestId: context.requestId,
      traceId: context.traceId,
      modelGroup: context.group.name,
      provider: origin?.provider ?? 'cache',
      model: origin?.model ?? context.group.name,
      deployment: origin?.deployment ?? 'cache',
      simulated: origin?.simulated ?? false,
      usage: { ...emptyUsage },
      costUsd: 0,
      latencyMs: clock.monotonic() - context.startedMonotonic,
      upstreamMs: 0,
      timeToFirstTokenMs: null,
      cacheStatus: hit.status,
      savedCostUsd: hit.avoided.costUsd,
      savedLatencyMs: hit.avoided.latencyMs,
      attempts: hit.attempts ?? [],
    };
    if (hit.semantic !== undefined) meta.semantic = hit.semantic;
    return meta;
  }

  /** The meta of a caller that joined an identical call in flight: the shared answer, under its own ids, nothing spent. */
  function joinedMeta(shared: CallMeta, context: CallContext): CallMeta {
    return {
      ...shared,
      tenantId: context.tenantId,
      requestId: context.requestId,
      traceId: context.traceId,
      latencyMs: clock.monotonic() - context.startedMonotonic,
      cacheStatus: 'shared',
      costUsd: 0,
      savedCostUsd: shared.costUsd,
      savedLatencyMs: 0,
      attempts: [...shared.attempts],
    };
  }

  /** A stored answer replayed as a stream. */
  function replay(context: CallContext, served: ServedHit): ModelStream {
    const meta = hitMeta(context, served);
    const chunks = toChatChunks(served.answer);
    return {
      meta,
      chunks: (async function* () {
        yield* chunks;
      })(),
      end: Promise.resolve({ meta, error: null }),
    };
  }

  const generate = onlyChat(async (call, next) => {
    const planned = planCache(call);
    if (planned === undefined) return next(call);
    const { plan } = planned;
    const hit = await lookup(planned, call);
    if (hit !== undefined) return { response: toChatResponse(hit.answer), meta: hitMeta(call.context, hit) };
    if (call.context.cacheControl.forceRefresh) await exact.invalidate(plan);
    const cacheStatus = statusOf(plan);
    const source = async (signal: AbortSignal | undefined) => {
      const result = await next(withContext(call, { cacheStatus, signal }));
      await store(planned, call.request, { kind: 'response', response: result.response }, result.meta);
      return result;
    };
    try {
      if (!plan.decision.joinInFlight) return await source(call.context.signal);
      const { value, shared } = await flights.run(
        { tenant: plan.scope.tenant, key: plan.key },
        source,
        call.context.signal,
      );
      if (!shared) return value;
      // Each caller gets its own copy and its own ids; its meta shows what joining saved.
      return { response: structuredClone(value.response), meta: joinedMeta(value.meta, call.context) };
    } catch (error) {
      const degraded = await degrade(planned, call, error);
      if (degraded === undefined) throw error;
      return { response: toChatResponse(degraded.answer), meta: hitMeta(call.context, degraded) };
    }
  });

  async function stream(call: ModelCall<'chat'>, next: Stream): Promise<ModelStream> {
    const planning = planCache(call);
    if (planning === undefined) return next(call);
    const planned = planning;
    const { plan } = planned;
    const { context } = call;
    const hit = await lookup(planned, call);
    if (hit !== undefined) return replay(context, hit);
    if (context.cacheControl.forceRefresh) await exact.invalidate(plan);
    const cacheStatus = statusOf(plan);
    async function* source(signal: AbortSignal | undefined): AsyncGenerator<StreamItem> {
      const started = await next(withContext(call, { cacheStatus, signal }));
      yield { kind: 'start', meta: started.meta, end: started.end };
      const seen: ChatChunk[] = [];
      for await (const chunk of started.chunks) {
        seen.push(chunk);
        yield { kind: 'chunk', chunk };
      }
      // Only a stream that ended complete is stored: a cut or failed one threw above.
      const end = await started.end;
      if (end.error !== null || signal?.aborted === true) return;
      await store(planned, call.request, { kind: 'stream', chunks: seen }, end.meta);
    }
    const flight = plan.decision.joinInFlight
      ? flights.stream({ tenant: plan.scope.tenant, key: plan.key }, source, context.signal)
      : { chunks: source(context.signal), shared: false };
    const iterator = flight.chunks[Symbol.asyncIterator]();
    let first: IteratorResult<StreamItem>;
    try {
      // Fails like an unshared stream when the upstream fails before its first content.
      first = await iterator.next();
    } catch (error) {
      const degraded = await degrade(planned, call, error);
      if (degraded === undefined) throw error;
      return replay(context, degraded);
    }
    if (first.done === true || first.value.kind !== 'start') {
      throw new PipewrightError({
        code: 'gateway.internal',
        message: 'the shared stream ended before it started',
      });
    }
    const start = first.value;
    async function* relay(): AsyncGenerator<ChatChunk> {
      try {
        for (;;) {
          const step = await iterator.next();
          if (step.done === true) return;
          if (step.value.kind === 'chunk') yield step.value.chunk;
        }
      } finally {
        await iterator.return?.();
      }
    }
    if (!flight.shared) return { meta: start.meta, chunks: relay(), end: start.end };
    return {
      meta: joinedMeta(start.meta, context),
      chunks: relay(),
      end: start.end.then(({ meta, error }): StreamEnd => ({ meta: joinedMeta(meta, context), error })),
    };
  }

  return { name: 'cache', generate, stream };
}

/** What a (possibly shared) upstream stream carries: its start (meta) once, then its chunks. */
type StreamItem =
  { kind: 'start'; meta: CallMeta; end: Promise<StreamEnd> } | { kind: 'chunk'; chunk: ChatChunk };

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

function originOf(meta: CallMeta): CacheOrigin {
  return {
    provider: meta.provider,
    model: meta.model,
    deployment: meta.deployment,
    simulated: meta.simulated,
  };
}
