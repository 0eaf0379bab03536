import { ProviderError, type Clock, type PipewrightError } from '../core/index.ts';
import type { UpstreamMeta } from '../providers/index.ts';
import { emptyUsage, normalizeUsage, type ChatChunk, type TokenUsage } from '../spec/index.ts';
import { withAttempts, type Answered } from './attempt-loop.ts';
import type { CallAttempt, CallMeta } from './engine-types.ts';
import type { ModelStream, StreamEnd } from './model.ts';

/** A stream opened up to its first content chunk. */
export interface OpenedStream {
  /** The upstream's status and headers (rate-limit headers feed the resilience layer). */
  upstream: UpstreamMeta;
  iterator: AsyncIterator<ChatChunk>;
  /** Chunks read before (and including) the first content chunk. */
  buffer: ChatChunk[];
  /** The stream ended before any content. */
  ended: boolean;
  firstTokenMs: number | null;
}

export interface RelayStreamOptions {
  opened: Answered<OpenedStream>;
  clock: Clock;
  /** The call's cancellation (caller gone, consumer gone, deadline passed). */
  cancelSignal: AbortSignal | undefined;
  /** The failure of the attempt as the caller sees it (the deadline and the caller's abort win). */
  failureOf(error: unknown): PipewrightError;
  /** The call's meta with what the stream used and how long the upstream took. */
  metaOf(usage: TokenUsage, upstreamMs: number): CallMeta;
}

/**
 * Relays an opened upstream stream to the layers above: the chunks (usage captured on the way),
 * and `end`, resolved once however the stream ends — complete, failed, or cancelled through the
 * call's signal — after the deployment's breaker and slot are settled.
 *
 * A hand-written iterator rather than an async generator: a chunk costs the upstream's promise and
 * one `then`, nothing more.
 */
export function relayStream(options: RelayStreamOptions): ModelStream {
  const { opened, clock, cancelSignal } = options;
  const { deployment, attempts, guard } = opened;
  const { iterator, buffer } = opened.value;
  const headerMs = opened.upstreamMs;
  const streamStart = clock.monotonic();
  let usage: TokenUsage = { ...emptyUsage };
  let resolveEnd: (end: StreamEnd) => void = () => undefined;
  const end = new Promise<StreamEnd>((resolve) => {
    resolveEnd = resolve;
  });
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
    resolveEnd({ meta: options.metaOf(usage, headerMs + (clock.monotonic() - streamStart)), error });
  }
  // The one cancellation mechanism: the consumer went away, the caller aborted or the deadline passed.
  const onCancel = (): void => finish(null, false);
  if (cancelSignal?.aborted === true) onCancel();
  else cancelSignal?.addEventListener('abort', onCancel, { once: true });

  const observe = (chunk: ChatChunk): ChatChunk => {
    if (chunk.usage !== undefined && chunk.usage !== null) usage = normalizeUsage(chunk.usage);
    return chunk;
  };
  const ended = (): IteratorResult<ChatChunk> => {
    finish(null, true);
    return { done: true, value: undefined };
  };
  const fail = (error: unknown): never => {
    const failure = withAttempts(failedLastAttempt(attempts, options.failureOf(error)), attempts);
    finish(failure, false);
    throw failure;
  };

  let index = 0;
  const relay: AsyncIterableIterator<ChatChunk> = {
    next(): Promise<IteratorResult<ChatChunk>> {
      if (finished) return Promise.resolve({ done: true, value: undefined });
      const buffered = buffer[index];
      if (buffered !== undefined) {
        index += 1;
        return Promise.resolve({ done: false, value: observe(buffered) });
      }
      if (opened.value.ended) return Promise.resolve(ended());
      return guard
        .step(iterator.next())
        .then((step) => (step.done === true ? ended() : { done: false, value: observe(step.value) }), fail);
    },
    async return(): Promise<IteratorResult<ChatChunk>> {
      finish(null, false);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return relay;
    },
  };
  return { meta: options.metaOf({ ...emptyUsage }, headerMs), chunks: relay, end };
}

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
