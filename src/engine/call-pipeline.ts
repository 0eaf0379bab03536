import { createId, createTraceId, PipewrightError, ProviderError, toPipewrightError, type Clock } from '../core/index.ts';
import type { ChatStreamResult, Deployment, ProviderClient, UpstreamMeta } from '../providers/index.ts';
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
import type { CallOperation, CallRecord, Metrics, PriceCatalog, TelemetryRecorder } from '../telemetry/index.ts';
import type { CallAttempt, CallMeta, EngineCallOptions } from './engine-types.ts';
import type { ModelCatalog, ModelGroup } from './model-catalog.ts';

export interface CallPipelineDependencies {
  catalog: ModelCatalog;
  client: ProviderClient;
  clock: Clock;
  defaultTenantId: string;
  recorder?: TelemetryRecorder | undefined;
  metrics?: Metrics | undefined;
  prices?: PriceCatalog | undefined;
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
}

/**
 * The one place the call pipeline is composed: resolve the model group, try its deployments
 * in order (falling back when another deployment can help), call through the provider client,
 * price the usage and record telemetry. Caching, rate limiting, breakers and gates plug in here.
 */
export function createCallPipeline(dependencies: CallPipelineDependencies) {
  const { catalog, client, clock, recorder, metrics, prices } = dependencies;

  function openScope(modelGroup: string, options: EngineCallOptions): CallScope {
    return {
      tenantId: options.tenantId ?? dependencies.defaultTenantId,
      requestId: options.requestId ?? createId('req'),
      traceId: options.traceId ?? createTraceId(),
      startedAt: clock.now(),
      startedMonotonic: clock.monotonic(),
      group: catalog.resolve(modelGroup),
      options,
    };
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
      cacheStatus: 'bypass',
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
      cacheStatus: meta?.cacheStatus ?? 'bypass',
      outcome: error === null ? 'success' : 'error',
      errorCode: error?.code ?? null,
      simulated: deployment?.provider === 'sim',
    };
    metrics?.observeCall(callRecord);
    recorder?.record(callRecord);
  }

  /**
   * Tries the group's deployments in order. Moves on to the next one when another deployment
   * could succeed (rate limits, outages, a bad key or exhausted quota on this one); stops at once
   * for errors that are about the request itself (invalid, too long, filtered) or an abort.
   */
  async function tryDeployments<T>(scope: CallScope, call: (deployment: Deployment) => Promise<T>): Promise<{ value: T; deployment: Deployment; attempts: CallAttempt[]; upstreamMs: number }> {
    const attempts: CallAttempt[] = [];
    let upstreamMs = 0;
    let lastError: PipewrightError | undefined;
    for (const deployment of scope.group.deployments) {
      const attemptStart = clock.monotonic();
      try {
        const value = await call(deployment);
        const durationMs = clock.monotonic() - attemptStart;
        upstreamMs += durationMs;
        attempts.push({ deployment: deployment.id, provider: deployment.provider, errorCode: null, errorKind: null, durationMs });
        return { value, deployment, attempts, upstreamMs };
      } catch (caught) {
        const durationMs = clock.monotonic() - attemptStart;
        upstreamMs += durationMs;
        const error = ProviderError.isProviderError(caught) ? caught.withDeployment(deployment.id) : toPipewrightError(caught);
        attempts.push({
          deployment: deployment.id,
          provider: deployment.provider,
          errorCode: error.code,
          errorKind: ProviderError.isProviderError(error) ? error.kind : null,
          durationMs,
        });
        lastError = error;
        if (!canFallBack(error) || scope.options.signal?.aborted === true) break;
      }
    }
    throw withAttempts(lastError ?? new PipewrightError({ code: 'gateway.internal', message: 'no deployment was tried' }), attempts);
  }

  async function runWhole<T>(
    operation: CallOperation,
    modelGroup: string,
    options: EngineCallOptions,
    call: (deployment: Deployment) => Promise<{ response: T; meta: UpstreamMeta }>,
    usageOf: (response: T) => TokenUsage,
  ): Promise<{ response: T; meta: CallMeta }> {
    const scope = openScope(modelGroup, options);
    let lastDeployment: Deployment | null = null;
    try {
      const result = await tryDeployments(scope, (deployment) => {
        lastDeployment = deployment;
        return call(deployment);
      });
      const meta = buildMeta(scope, result.deployment, result.attempts, usageOf(result.value.response), result.upstreamMs, null);
      record(scope, operation, false, meta, null, result.deployment);
      return { response: result.value.response, meta };
    } catch (error) {
      const failure = toPipewrightError(error);
      record(scope, operation, false, null, failure, lastDeployment);
      throw failure;
    }
  }

  function upstreamOptions(options: EngineCallOptions) {
    return {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
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
        outcome: call.error === null ? 'success' : 'error',
        errorCode: call.error?.code ?? null,
        simulated: false,
      };
      metrics?.observeCall(callRecord);
      recorder?.record(callRecord);
    },

    chat(request: ChatRequest, options: EngineCallOptions = {}): Promise<{ response: ChatResponse; meta: CallMeta }> {
      return runWhole('chat', request.model, options, (deployment) => client.chat(request, deployment, upstreamOptions(options)), (response) => normalizeUsage(response.usage));
    },

    async embed(request: EmbeddingsRequest, options: EngineCallOptions = {}): Promise<{ response: EmbeddingsResponse; meta: CallMeta }> {
      const result = await runWhole('embeddings', request.model, options, (deployment) => client.embed(request, deployment, upstreamOptions(options)), (response) => ({
        ...emptyUsage,
        inputTokens: response.usage.prompt_tokens,
      }));
      // Providers without base64 output (Gemini) answer floats; the caller asked for base64.
      if (request.encoding_format === 'base64') {
        for (const item of result.response.data) {
          if (Array.isArray(item.embedding)) item.embedding = Buffer.from(new Float32Array(item.embedding).buffer).toString('base64');
        }
      }
      return result;
    },

    images(request: ImagesRequest, options: EngineCallOptions = {}): Promise<{ response: ImagesResponse; meta: CallMeta }> {
      return runWhole('images', request.model, options, (deployment) => client.images(request, deployment, upstreamOptions(options)), (response) => ({
        ...emptyUsage,
        inputTokens: response.usage?.input_tokens ?? 0,
        outputTokens: response.usage?.output_tokens ?? 0,
      }));
    },

    /**
     * Starts a stream. Resolves once a deployment answered with a 2xx (failures before that fall
     * back like whole calls). Usage is always captured; the usage-only chunk reaches the caller
     * only when the request asked for it (`stream_options.include_usage`). A stream that fails
     * after it started throws from the iterator, never ends as if complete.
     */
    async chatStream(request: ChatRequest, options: EngineCallOptions = {}): Promise<EngineChatStream> {
      const scope = openScope(request.model, options);
      let lastDeployment: Deployment | null = null;
      let started: { value: ChatStreamResult; deployment: Deployment; attempts: CallAttempt[]; upstreamMs: number };
      try {
        started = await tryDeployments(scope, (deployment) => {
          lastDeployment = deployment;
          return client.chatStream(request, deployment, upstreamOptions(options));
        });
      } catch (error) {
        const failure = toPipewrightError(error);
        record(scope, 'chat', true, null, failure, lastDeployment);
        throw failure;
      }
      const { deployment, attempts } = started;
      const headerMs = started.upstreamMs;
      const wantsUsage = request.stream_options?.include_usage === true;
      const initialMeta = buildMeta(scope, deployment, attempts, { ...emptyUsage }, headerMs, null);
      let resolveDone: (meta: CallMeta) => void = () => undefined;
      const done = new Promise<CallMeta>((resolve) => {
        resolveDone = resolve;
      });
      const streamStart = clock.monotonic();
      async function* relay(): AsyncGenerator<ChatChunk> {
        let usage: TokenUsage = { ...emptyUsage };
        let firstTokenMs: number | null = null;
        let failure: PipewrightError | null = null;
        try {
          for await (const chunk of started.value.chunks) {
            if (chunk.usage !== undefined && chunk.usage !== null) usage = normalizeUsage(chunk.usage);
            if (firstTokenMs === null && chunk.choices.some((choice) => hasContent(choice.delta))) {
              firstTokenMs = clock.monotonic() - scope.startedMonotonic;
            }
            if (chunk.choices.length === 0 && !wantsUsage) continue;
            if (!wantsUsage && chunk.usage !== undefined) {
              const { usage: _usage, ...rest } = chunk;
              yield rest;
            } else {
              yield chunk;
            }
          }
        } catch (error) {
          failure = ProviderError.isProviderError(error) ? error.withDeployment(deployment.id) : toPipewrightError(error);
          throw failure;
        } finally {
          // Runs on completion, failure, and when the consumer stops early (client gone).
          if (failure === null && options.signal?.aborted === true) {
            failure = new ProviderError({ kind: 'aborted', message: 'the client aborted the stream', provider: deployment.provider, deployment: deployment.id });
          }
          const meta = buildMeta(scope, deployment, attempts, usage, headerMs + (clock.monotonic() - streamStart), firstTokenMs);
          record(scope, 'chat', true, meta, failure, deployment);
          resolveDone(meta);
        }
      }
      return { meta: initialMeta, chunks: relay(), done };
    },
  };
}

export type CallPipeline = ReturnType<typeof createCallPipeline>;

function hasContent(delta: ChatChunk['choices'][number]['delta']): boolean {
  return (typeof delta.content === 'string' && delta.content.length > 0) || (delta.tool_calls !== undefined && delta.tool_calls.length > 0);
}

const requestScopedKinds = new Set(['invalid_request', 'context_length_exceeded', 'content_filtered', 'aborted']);

function canFallBack(error: PipewrightError): boolean {
  if (!ProviderError.isProviderError(error)) return false;
  return !requestScopedKinds.has(error.kind);
}

/** The error a caller sees when every route failed: the last error, with every attempt listed. */
function withAttempts(error: PipewrightError, attempts: CallAttempt[]): PipewrightError {
  if (attempts.length <= 1) return error;
  return new PipewrightError({
    code: error.code,
    message: `${error.message} (after ${attempts.length} attempts: ${attempts.map((attempt) => `${attempt.deployment} ${attempt.errorCode ?? 'ok'}`).join(', ')})`,
    cause: error,
    status: error.status,
    isRetryable: error.isRetryable,
    details: { attempts },
  });
}
