import type { Clock } from '../core/index.ts';
import type { ChatStreamResult, Deployment, ProviderClient, UpstreamMeta } from '../providers/index.ts';
import { type AttemptGuard, type Deadline, type Resilience } from '../resilience/index.ts';
import {
  emptyUsage,
  normalizeUsage,
  type CallOperation,
  type ChatChunk,
  type TokenUsage,
} from '../spec/index.ts';
import type { PriceCatalog } from '../telemetry/index.ts';
import { createAttemptLoop, type Answered, type AttemptScope } from './attempt-loop.ts';
import type { CallContext } from './call-context.ts';
import type { CallAttempt, CallMeta } from './engine-types.ts';
import type { ModelCatalog } from './model-catalog.ts';
import type {
  Model,
  ModelAnswer,
  ModelCall,
  ModelStream,
  OperationRequests,
  OperationResponses,
} from './model.ts';
import { hasContent } from './chat-stream.ts';
import { relayStream, type OpenedStream } from './relay-stream.ts';
import { estimateTokens } from './estimate-tokens.ts';

export interface AttemptModelDependencies {
  catalog: ModelCatalog;
  client: ProviderClient;
  clock: Clock;
  resilience: Resilience;
  prices?: PriceCatalog | undefined;
}

/** How one operation is sent to a deployment and what its answer used. */
interface OperationWire<Operation extends CallOperation> {
  send(
    client: ProviderClient,
    request: OperationRequests[Operation],
    deployment: Deployment,
    options: UpstreamOptions,
  ): Promise<{ response: OperationResponses[Operation]; meta: UpstreamMeta }>;
  usageOf(response: OperationResponses[Operation]): TokenUsage;
}

interface UpstreamOptions {
  signal?: AbortSignal;
  headers?: Readonly<Record<string, string>>;
}

const wires: { [Operation in CallOperation]: OperationWire<Operation> } = {
  chat: {
    send: (client, request, deployment, options) => client.chat(request, deployment, options),
    usageOf: (response) => normalizeUsage(response.usage),
  },
  embeddings: {
    send: async (client, request, deployment, options) => {
      const result = await client.embed(request, deployment, options);
      // Providers without base64 output (Gemini) answer floats; the caller asked for base64.
      if (request.encoding_format === 'base64') {
        for (const item of result.response.data) {
          if (Array.isArray(item.embedding))
            item.embedding = Buffer.from(new Float32Array(item.embedding).buffer).toString('base64');
        }
      }
      return result;
    },
    usageOf: (response) => ({ ...emptyUsage, inputTokens: response.usage.prompt_tokens }),
  },
  images: {
    send: (client, request, deployment, options) => client.images(request, deployment, options),
    usageOf: (response) => ({
      ...emptyUsage,
      inputTokens: response.usage?.input_tokens ?? 0,
      outputTokens: response.usage?.output_tokens ?? 0,
    }),
  },
};

/**
 * The innermost model: the attempt loop (attempt-loop.ts: deployment order, breakers, deployment
 * bulkheads and limits, retries, fallback chains) sending the call through the provider client,
 * then pricing what the answer used. It needs the deadline the admission layer started.
 */
export function createAttemptModel(dependencies: AttemptModelDependencies): Model {
  const { catalog, client, clock, resilience, prices } = dependencies;
  const { execute, attemptError } = createAttemptLoop({ catalog, clock, resilience });

  function scopeOf(call: ModelCall): AttemptScope & { deadline: Deadline } {
    const { context } = call;
    if (context.deadline === undefined)
      throw new Error('the admission layer must run above the attempt loop (it starts the deadline)');
    return {
      tenantId: context.tenantId,
      group: context.group,
      options: {
        ...(context.signal === undefined ? {} : { signal: context.signal }),
        ...(context.stepType === null ? {} : { stepType: context.stepType }),
      },
      deadline: context.deadline,
      requestedDeadlineMs: context.deadlineMs,
      estimateTokens: () => estimateTokens(call),
    };
  }

  function upstreamOptions(context: CallContext, signal: AbortSignal | undefined): UpstreamOptions {
    return {
      ...(signal === undefined ? {} : { signal }),
      ...(context.upstreamHeaders === undefined ? {} : { headers: context.upstreamHeaders }),
    };
  }

  function metaOf(
    context: CallContext,
    deployment: Deployment,
    attempts: CallAttempt[],
    usage: TokenUsage,
    upstreamMs: number,
    timeToFirstTokenMs: number | null,
  ): CallMeta {
    return {
      tenantId: context.tenantId,
      requestId: context.requestId,
      traceId: context.traceId,
      modelGroup: context.group.name,
      provider: deployment.provider,
      model: deployment.model,
      deployment: deployment.id,
      simulated: deployment.provider === 'sim',
      usage,
      costUsd:
        prices === undefined
          ? null
          : prices.costOf(deployment.provider, deployment.model, usage, deployment.id),
      latencyMs: clock.monotonic() - context.startedMonotonic,
      upstreamMs,
      timeToFirstTokenMs,
      cacheStatus: context.cacheStatus,
      savedCostUsd: null,
      savedLatencyMs: null,
      attempts,
    };
  }

  async function generate<Operation extends CallOperation>(
    call: ModelCall<Operation>,
  ): Promise<ModelAnswer<Operation>> {
    const scope = scopeOf(call);
    const wire = wires[call.operation] as unknown as OperationWire<Operation>;
    const result = await execute(
      scope,
      false,
      (deployment, guard) =>
        guard.step(wire.send(client, call.request, deployment, upstreamOptions(call.context, guard.signal))),
      ignoreLastDeployment,
    );
    resilience.observeHeaders(result.deployment.id, result.value.meta.headers);
    const usage = wire.usageOf(result.value.response);
    result.settle({
      outcome: 'success',
      latencyMs: result.attempts.at(-1)?.durationMs ?? 0,
      tokens: usage.inputTokens + usage.outputTokens,
    });
    const meta = metaOf(call.context, result.deployment, result.attempts, usage, result.upstreamMs, null);
    return { response: result.value.response, meta };
  }

  async function stream(call: ModelCall<'chat'>): Promise<ModelStream> {
    const scope = scopeOf(call);
    const { context, request } = call;
    const opened: Answered<OpenedStream> = await execute(
      scope,
      true,
      async (deployment, guard) =>
        openUntilFirstContent(
          context,
          guard,
          await guard.step(client.chatStream(request, deployment, upstreamOptions(context, guard.signal))),
        ),
      ignoreLastDeployment,
    );
    resilience.observeHeaders(opened.deployment.id, opened.value.upstream.headers);
    return relayStream({
      opened,
      clock,
      cancelSignal: scope.deadline.signal,
      failureOf: (error) => attemptError(scope, error, opened.deployment),
      metaOf: (usage, upstreamMs) =>
        metaOf(context, opened.deployment, opened.attempts, usage, upstreamMs, opened.value.firstTokenMs),
    });
  }

  /** Reads a started stream until its first content chunk, buffering what came before (role, usage). */
  async function openUntilFirstContent(
    context: CallContext,
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
            firstTokenMs: clock.monotonic() - context.startedMonotonic,
          };
        }
      }
    } catch (error) {
      // Releases the upstream socket; not awaited, since a source that ignores its signal may never settle.
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
      throw error;
    }
  }

  return { generate, stream };
}

/** Telemetry finds the last deployment called in the attempts an error lists. */
const ignoreLastDeployment = (): void => undefined;
