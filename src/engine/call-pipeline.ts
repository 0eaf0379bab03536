import { toTenantId, type Clock, type PipewrightError } from '../core/index.ts';
import { noCacheDirectives, parseCacheControl, type CacheControl } from '../cache/index.ts';
import type { ProviderClient } from '../providers/index.ts';
import type { Resilience } from '../resilience/index.ts';
import type {
  CallOperation,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ImagesRequest,
  ImagesResponse,
  TokenUsage,
} from '../spec/index.ts';
import {
  buildCallRecord,
  type Metrics,
  type PriceCatalog,
  type TelemetryRecorder,
} from '../telemetry/index.ts';
import { createAttemptModel } from './attempt-model.ts';
import { createCallContext } from './call-context.ts';
import { presentStream } from './chat-stream.ts';
import type { CallMeta, EngineCallOptions } from './engine-types.ts';
import { createAdmissionLayer } from './layers/admission-layer.ts';
import { createCacheLayer, type CacheLayerDependencies, type ChatCache } from './layers/cache-layer.ts';
import { createTelemetryLayer } from './layers/telemetry-layer.ts';
import type { ModelCatalog } from './model-catalog.ts';
import { composeModel, type ModelCall, type ModelLayer, type OperationRequests } from './model.ts';

export interface CallPipelineDependencies {
  catalog: ModelCatalog;
  client: ProviderClient;
  clock: Clock;
  /** The tenant of library calls that name none (the gateway always names one). */
  defaultTenantId: string;
  resilience: Resilience;
  recorder?: TelemetryRecorder | undefined;
  metrics?: Metrics | undefined;
  prices?: PriceCatalog | undefined;
  /** The caches of chat calls (exact, single-flight, semantic); absent: no caching, no sharing. */
  cache?: ChatCache | undefined;
  /** A cache that failed (the call went on without it): for logs. */
  onCacheError?: CacheLayerDependencies['onCacheError'];
}

/** A stream the engine has started: headers are known, chunks follow. */
export interface EngineChatStream {
  /** Known before the first chunk: the deployment chosen and ids. Usage and cost fill in at the end. */
  meta: CallMeta;
  chunks: AsyncIterable<ChatChunk>;
  /** Resolves with the final meta (usage, cost, latency) when the stream ends, however it ends. */
  done: Promise<CallMeta>;
}

/**
 * The one place the call path is composed: the layers, outermost first, around the attempt loop.
 * A new capability (routing, budgets, gates, tracing) is one more entry in this list.
 *
 * - telemetry: one call record per call, whatever answered it and however it ended;
 * - cache: exact and semantic lookups, single-flight, storing fresh answers, degraded answers;
 * - admission: the deadline starts; the tenant's bulkhead and rate limit admit the call;
 * - (innermost) the attempt loop: deployment order, breakers, retries, fallbacks, pricing.
 */
function listLayers(dependencies: CallPipelineDependencies): ModelLayer[] {
  const { catalog, clock, recorder, metrics, resilience, cache, onCacheError } = dependencies;
  return [
    createTelemetryLayer({ catalog, clock, recorder, metrics }),
    ...(cache === undefined ? [] : [createCacheLayer({ cache, clock, metrics, onCacheError })]),
    createAdmissionLayer({ clock, resilience }),
  ];
}

/**
 * The engine's call path: its edge (validated requests and call options in, a call context out:
 * tenant, model group and cache directives resolved once) and the composed model behind it.
 */
export function createCallPipeline(dependencies: CallPipelineDependencies) {
  const { catalog, clock, recorder, metrics, prices } = dependencies;
  const model = composeModel(createAttemptModel(dependencies), listLayers(dependencies));

  /** The edge: everything about the call that is not its payload, resolved once. */
  function open<Operation extends CallOperation>(
    operation: Operation,
    request: OperationRequests[Operation],
    options: EngineCallOptions,
    signal: AbortSignal | undefined = options.signal,
  ): ModelCall<Operation> {
    const context = createCallContext(
      {
        tenantId: toTenantId(options.tenantId ?? dependencies.defaultTenantId, 'tenantId'),
        group: catalog.resolve(request.model),
        cacheControl: cacheControlOf(options.cache),
        requestId: options.requestId,
        traceId: options.traceId,
        stepType: options.stepType,
        deadlineMs: options.deadlineMs,
        upstreamHeaders: options.upstreamHeaders,
        signal,
      },
      clock,
    );
    return { operation, request, context };
  }

  return {
    chat(
      request: ChatRequest,
      options: EngineCallOptions = {},
    ): Promise<{ response: ChatResponse; meta: CallMeta }> {
      return model.generate(open('chat', request, options));
    },

    embed(
      request: EmbeddingsRequest,
      options: EngineCallOptions = {},
    ): Promise<{ response: EmbeddingsResponse; meta: CallMeta }> {
      return model.generate(open('embeddings', request, options));
    },

    images(
      request: ImagesRequest,
      options: EngineCallOptions = {},
    ): Promise<{ response: ImagesResponse; meta: CallMeta }> {
      return model.generate(open('images', request, options));
    },

    /**
     * A stream through every layer. Its consumer going away (a closed connection, a `break`) ends
     * the upstream call through the call's one signal; the chunks carry usage only when asked.
     */
    async chatStream(request: ChatRequest, options: EngineCallOptions = {}): Promise<EngineChatStream> {
      const controller = new AbortController();
      const caller = options.signal;
      const forward = (): void => controller.abort(caller?.reason);
      if (caller?.aborted === true) forward();
      else caller?.addEventListener('abort', forward, { once: true });
      let stream;
      try {
        stream = await model.stream(open('chat', request, options, controller.signal));
      } catch (error) {
        caller?.removeEventListener('abort', forward);
        throw error;
      }
      const done = stream.end.then(({ meta }) => {
        caller?.removeEventListener('abort', forward);
        return meta;
      });
      const wantsUsage = request.stream_options?.include_usage === true;
      const chunks = presentStream(stream.chunks, wantsUsage, () =>
        controller.abort(new DOMException('the consumer of the stream went away', 'AbortError')),
      );
      return { meta: stream.meta, chunks, done };
    },

    /**
     * Records a model call made outside the engine (code wrapped by `adaptFunction` while it is
     * being migrated), so it still shows up in telemetry with its tenant, latency and outcome.
     */
    recordExternal(call: {
      operation?: CallOperation;
      tenantId: string;
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
      const callRecord = buildCallRecord({
        operation: call.operation ?? 'chat',
        streamed: false,
        startedAt: call.startedAt,
        tenantId: call.tenantId,
        requestId: call.requestId,
        traceId: call.traceId,
        stepType: call.stepType,
        modelGroup: call.modelGroup,
        provider: 'external',
        model: call.model,
        deployment: null,
        simulated: false,
        usage: call.usage,
        latencyMs: call.latencyMs,
        timeToFirstTokenMs: null,
        costUsd:
          call.model === null || prices === undefined
            ? null
            : prices.costOf('external', call.model, call.usage),
        cacheStatus: 'bypass',
        savedCostUsd: null,
        savedLatencyMs: null,
        errorCode: call.error?.code ?? null,
      });
      metrics?.observeCall(callRecord);
      recorder?.record(callRecord);
    },
  };
}

export type CallPipeline = ReturnType<typeof createCallPipeline>;

/** Directives arrive parsed from the gateway (which names its header in errors) or as the library option's text. */
function cacheControlOf(cache: EngineCallOptions['cache']): CacheControl {
  if (cache === undefined) return noCacheDirectives;
  return typeof cache === 'string' ? parseCacheControl(cache, 'cache') : cache;
}
