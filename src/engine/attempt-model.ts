import { ProviderError, type Clock, type PipewrightError } from '../core/index.ts';
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
import { createAttemptLoop, withAttempts, type Answered, type AttemptScope } from './attempt-loop.ts';
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
  StreamEnd,
} from './model.ts';
import { hasContent } from './chat-stream.ts';
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
// eslint-disable-next-line max-lines-per-function -- a factory: generate, stream and four helpers sharing the attempt loop; stream (101 lines) is the long one, TODO(issue 9): split it by its owner
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
    const { deployment, attempts, guard } = opened;
    const { iterator, buffer } = opened.value;
    resilience.observeHeaders(deployment.id, opened.value.upstream.headers);
    const headerMs = opened.upstreamMs;
    const firstTokenMs = opened.value.firstTokenMs;
    const streamStart = clock.monotonic();
    let usage: TokenUsage = { ...emptyUsage };
    let resolveEnd: (end: StreamEnd) => void = () => undefined;
    const end = new Promise<StreamEnd>((resolve) => {
      resolveEnd = resolve;
    });
    const cancelSignal = scope.deadline.signal;
    let finished = false;

    /** Settles the breaker and the deployment's slot and resolves `end`: once, however the stream ends. */
    function finish(failure: PipewrightError | null, completed: boolean): void {
      if (finished) return;
      finished = true;
      cancelSignal?.removeEventListener('abort', onCancel);
      if (!completed) void Promise.resolve(iterator.return?.()).catch(() => undefined);
      let error = failure;
      const tokens = usage.inputTokens + usage.outputTokens;
      if (completed) {
        opened.settle({ outcome: 'success', latencyMs: clock.monotonic() - streamStart + headerMs, tokens });
      } else if (failure !== null && ProviderError.isProviderError(failure) && failure.kind !== 'aborted') {
        opened.settle({ outcome: 'failure', error: failure });
      } else {
        opened.settle({ outcome: 'neutral' });
        error ??= withAttempts(
          new ProviderError({
            kind: 'aborted',
            message: 'the stream was cancelled before it ended',
            provider: deployment.provider,
            deployment: deployment.id,
          }),
          attempts,
        );
      }
      const upstreamMs = headerMs + (clock.monotonic() - streamStart);
      resolveEnd({ meta: metaOf(context, deployment, attempts, usage, upstreamMs, firstTokenMs), error });
    }
    // The one cancellation mechanism: the consumer went away, the caller aborted or the deadline passed.
    const onCancel = (): void => finish(null, false);
    if (cancelSignal?.aborted === true) onCancel();
    else cancelSignal?.addEventListener('abort', onCancel, { once: true });

    const observe = (chunk: ChatChunk): ChatChunk => {
      if (chunk.usage !== undefined && chunk.usage !== null) usage = normalizeUsage(chunk.usage);
      return chunk;
    };

    // A hand-written iterator rather than an async generator: one promise per chunk, not several.
    let index = 0;
    const ended = (): IteratorResult<ChatChunk> => {
      finish(null, true);
      return { done: true, value: undefined };
    };
    const relay: AsyncIterableIterator<ChatChunk> = {
      // Not async: a chunk costs the upstream's promise and one `then`, nothing more.
      next(): Promise<IteratorResult<ChatChunk>> {
        if (finished) return Promise.resolve({ done: true, value: undefined });
        const buffered = buffer[index];
        if (buffered !== undefined) {
          index += 1;
          return Promise.resolve({ done: false, value: observe(buffered) });
        }
        if (opened.value.ended) return Promise.resolve(ended());
        return guard.step(iterator.next()).then(
          (step) => (step.done === true ? ended() : { done: false, value: observe(step.value) }),
          (error: unknown) => {
            const failure = withAttempts(
              failedLastAttempt(attempts, attemptError(scope, error, deployment)),
              attempts,
            );
            finish(failure, false);
            throw failure;
          },
        );
      },
      async return(): Promise<IteratorResult<ChatChunk>> {
        finish(null, false);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return relay;
      },
    };
    const meta = metaOf(context, deployment, attempts, { ...emptyUsage }, headerMs, firstTokenMs);
    return { meta, chunks: relay, end };
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

/**
 * A stream that failed after its first content chunk: its deployment's attempt, recorded as a
 * success when the stream opened, now carries the error that cut it.
 */
function failedLastAttempt(attempts: CallAttempt[], error: PipewrightError): PipewrightError {
  const last = attempts.at(-1);
  if (last !== undefined && last.errorCode === null) {
    last.errorCode = error.code;
    last.errorKind = ProviderError.isProviderError(error) ? error.kind : null;
  }
  return error;
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
