import { PipewrightError, ProviderError, scheduleOnClock, type Clock } from '../core/index.ts';

/** The operations with a deadline of their own: a whole chat answer, a streamed one, embeddings, images. */
export const deadlineOperations = ['chat', 'chatStream', 'embeddings', 'images'] as const;
export type DeadlineOperation = (typeof deadlineOperations)[number];

/**
 * The deadline of a call nobody set one for (docs/configuration.md#resilience explains the values):
 * a whole chat answer 2 min, a stream 10 min (its silences are bounded by `timeouts.idleMs`),
 * embeddings 30 s, images 3 min.
 */
export const defaultDeadlines: Readonly<Record<DeadlineOperation, number>> = {
  chat: 120_000,
  chatStream: 600_000,
  embeddings: 30_000,
  images: 180_000,
};

/** The longest deadline anyone may set (config, step type, call option, `x-pipewright-timeout-ms`): one hour. */
export const maxDeadlineMs = 3_600_000;

/** The time budget of one request, and the signal that ends it. */
export interface Deadline {
  /** The budget in ms, or undefined when the request has none. */
  readonly timeoutMs: number | undefined;
  /** The caller's signal combined with the deadline; undefined when there is neither. */
  readonly signal: AbortSignal | undefined;
  /** Milliseconds left (Infinity without a deadline). */
  remainingMs(): number;
  /** True once the budget is spent. */
  expired(): boolean;
  /** Rejects with the signal's reason when it aborts (undefined without a timeout). */
  readonly aborted: Promise<never> | undefined;
  /** Cancels the timer; call when the request ends, however it ends. */
  dispose(): void;
}

export interface CreateDeadlineOptions {
  clock: Clock;
  timeoutMs?: number | undefined;
  /** The caller's signal (a closed client connection). */
  signal?: AbortSignal | undefined;
}

const noop = (): void => undefined;

/**
 * Starts a request's deadline. Without `timeoutMs` nothing is allocated beyond the returned
 * object (no timer on the hot path); with it, one timer aborts the combined signal with a
 * `TimeoutError` (which the transport maps to a `timeout`) when the budget runs out.
 *
 * @example
 * const deadline = createDeadline({ clock, timeoutMs: 30_000, signal: request.signal });
 * try { await client.chat(body, deployment, { signal: deadline.signal }); } finally { deadline.dispose(); }
 */
export function createDeadline(options: CreateDeadlineOptions): Deadline {
  const { clock, timeoutMs } = options;
  if (timeoutMs === undefined) {
    return {
      timeoutMs: undefined,
      signal: options.signal,
      remainingMs: () => Infinity,
      expired: () => false,
      aborted: undefined,
      dispose: noop,
    };
  }
  const endsAt = clock.monotonic() + timeoutMs;
  const controller = new AbortController();
  // In the background: a stream its caller never read nor cancelled must not hold the process for its whole deadline.
  const cancelTimer = scheduleOnClock(
    clock,
    timeoutMs,
    () =>
      controller.abort(new DOMException(`the request's deadline of ${timeoutMs} ms passed`, 'TimeoutError')),
    { background: true },
  );
  // A listener rather than AbortSignal.any: far cheaper per call, and removed when the request ends.
  const parent = options.signal;
  const forward = (): void => controller.abort(parent?.reason);
  if (parent !== undefined) {
    if (parent.aborted) forward();
    else parent.addEventListener('abort', forward, { once: true });
  }
  const signal = controller.signal;
  const aborted = new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  aborted.catch(noop);
  return {
    timeoutMs,
    signal,
    remainingMs: () => Math.max(0, endsAt - clock.monotonic()),
    expired: () => (signal.aborted && !(parent?.aborted ?? false) ? true : clock.monotonic() >= endsAt),
    aborted,
    dispose: () => {
      cancelTimer();
      parent?.removeEventListener('abort', forward);
    },
  };
}

/** The error a caller sees when the deadline passed; `details.attempts` is added by the pipeline. */
export function createDeadlineExceededError(timeoutMs: number | undefined, cause?: unknown): PipewrightError {
  return new PipewrightError({
    code: 'gateway.deadline_exceeded',
    message: `the request's deadline of ${timeoutMs ?? '?'} ms passed before an answer arrived`,
    cause,
  });
}

/**
 * Guards one attempt at one deployment: the first-token timeout (from the attempt's start to
 * its first content chunk) and the idle timeout (longest silence between two chunks), on top
 * of the request's signal. Awaited steps are raced against the guard's signal, so a source that
 * ignores its signal still cannot hang the request.
 */
export interface AttemptGuard {
  /** Pass this to the provider client. */
  readonly signal: AbortSignal | undefined;
  /** Awaits one step (the call, or one chunk), failing when the attempt is aborted or the idle timeout fires. */
  step<T>(promise: Promise<T>): Promise<T>;
  /** The first content chunk arrived: the first-token timer stops. */
  firstContent(): void;
  dispose(): void;
}

export interface AttemptTimeouts {
  /** Milliseconds from the attempt's start to its first content chunk (streams). */
  firstTokenMs?: number | undefined;
  /** Longest silence between two stream chunks, in ms. */
  idleMs?: number | undefined;
}

const passThrough = <T>(promise: Promise<T>): Promise<T> => promise;

/**
 * Creates the guard of one attempt. With no timeout and no deadline it is a pass-through
 * (no allocation per chunk).
 *
 * @example
 * const guard = createAttemptGuard({ clock, deadline, timeouts: { firstTokenMs: 10_000, idleMs: 30_000 }, provider: 'openai', deployment: 'gpt-eu' });
 * const stream = await guard.step(client.chatStream(request, deployment, { signal: guard.signal }));
 */
export function createAttemptGuard(options: {
  clock: Clock;
  deadline: Deadline;
  timeouts: AttemptTimeouts;
  streaming: boolean;
  provider: string;
  deployment: string;
}): AttemptGuard {
  const { clock, deadline, provider, deployment } = options;
  const firstTokenMs = options.streaming ? options.timeouts.firstTokenMs : undefined;
  const idleMs = options.streaming ? options.timeouts.idleMs : undefined;
  if (firstTokenMs === undefined && idleMs === undefined) {
    const whole = deadline.aborted;
    if (whole === undefined)
      return { signal: deadline.signal, step: passThrough, firstContent: noop, dispose: noop };
    const mapped = whole.catch((reason: unknown) =>
      Promise.reject(toAbortError(reason, provider, deployment)),
    );
    mapped.catch(noop);
    return {
      signal: deadline.signal,
      step: <T>(promise: Promise<T>) => Promise.race([promise, mapped]),
      firstContent: noop,
      dispose: noop,
    };
  }
  const controller = new AbortController();
  const parent = deadline.signal;
  const forward = (): void => controller.abort(parent?.reason);
  if (parent !== undefined) {
    if (parent.aborted) forward();
    else parent.addEventListener('abort', forward, { once: true });
  }
  const aborted = new Promise<never>((_resolve, reject) => {
    if (controller.signal.aborted) reject(toAbortError(controller.signal.reason, provider, deployment));
    else
      controller.signal.addEventListener(
        'abort',
        () => reject(toAbortError(controller.signal.reason, provider, deployment)),
        { once: true },
      );
  });
  aborted.catch(noop);
  const timeout = (message: string) => new ProviderError({ kind: 'timeout', message, provider, deployment });
  let cancelFirstToken: (() => void) | undefined;
  if (firstTokenMs !== undefined) {
    cancelFirstToken = scheduleOnClock(clock, firstTokenMs, () =>
      controller.abort(timeout(`${provider} sent no first token within ${firstTokenMs} ms`)),
    );
  }
  return {
    signal: controller.signal,
    step<T>(promise: Promise<T>): Promise<T> {
      if (idleMs === undefined) return Promise.race([promise, aborted]);
      const cancelIdle = scheduleOnClock(clock, idleMs, () =>
        controller.abort(timeout(`${provider} stream was silent for ${idleMs} ms`)),
      );
      return Promise.race([promise, aborted]).finally(cancelIdle);
    },
    firstContent() {
      cancelFirstToken?.();
      cancelFirstToken = undefined;
    },
    dispose() {
      cancelFirstToken?.();
      parent?.removeEventListener('abort', forward);
    },
  };
}

/** What an aborted attempt throws: the timeout ProviderError as is, anything else mapped like the transport does. */
function toAbortError(reason: unknown, provider: string, deployment: string): ProviderError {
  if (ProviderError.isProviderError(reason)) return reason;
  const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new ProviderError({
    kind: isTimeout ? 'timeout' : 'aborted',
    message: isTimeout
      ? `${provider} call stopped: ${reason.message}`
      : `${provider} call aborted by the caller`,
    provider,
    deployment,
    cause: reason,
  });
}
