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
  /** Rejects with the signal's reason when it aborts (undefined without a timeout); made on first read. */
  readonly aborted: Promise<never> | undefined;
  /**
   * Calls `callback` with the reason once the deadline passes or the caller aborts (at once when
   * that already happened); returns the unsubscribe. Without a timeout it never calls. Cheaper
   * than a listener on `signal` (a new AbortSignal's first listener costs microseconds).
   */
  onAbort(callback: (reason: unknown) => void): () => void;
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
const neverAborts = (): (() => void) => noop;

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
      onAbort: neverAborts,
      dispose: noop,
    };
  }
  return new TimedDeadline(clock, timeoutMs, options.signal);
}

/**
 * A deadline with a timer. Every call has one (defaults per operation), so this is on the hot
 * path: a class (its methods are shared, not closures made per call), one controller, one timer,
 * and no listener of its own on the new signal (`onAbort` callbacks are called directly; a new
 * AbortSignal's first listener costs microseconds).
 */
class TimedDeadline implements Deadline {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #clock: Clock;
  readonly #endsAt: number;
  readonly #parent: AbortSignal | undefined;
  readonly #cancelTimer: () => void;
  #callbacks: Set<(reason: unknown) => void> | undefined;
  #aborted: Promise<never> | undefined;
  // A listener rather than AbortSignal.any: far cheaper per call, and removed when the request ends.
  readonly #forward = (): void => this.#abort(this.#parent?.reason);

  constructor(clock: Clock, timeoutMs: number, parent: AbortSignal | undefined) {
    this.timeoutMs = timeoutMs;
    this.signal = this.#controller.signal;
    this.#clock = clock;
    this.#endsAt = clock.monotonic() + timeoutMs;
    this.#parent = parent;
    // In the background: a stream its caller never read nor cancelled must not hold the process for its whole deadline.
    this.#cancelTimer = scheduleOnClock(
      clock,
      timeoutMs,
      () => this.#abort(new DOMException(`the request's deadline of ${timeoutMs} ms passed`, 'TimeoutError')),
      { background: true },
    );
    if (parent !== undefined) {
      if (parent.aborted) this.#forward();
      else parent.addEventListener('abort', this.#forward, { once: true });
    }
  }

  #abort(reason: unknown): void {
    if (this.signal.aborted) return;
    this.#controller.abort(reason);
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks !== undefined) for (const callback of callbacks) callback(reason);
  }

  remainingMs(): number {
    return Math.max(0, this.#endsAt - this.#clock.monotonic());
  }

  expired(): boolean {
    return this.signal.aborted && !(this.#parent?.aborted ?? false)
      ? true
      : this.#clock.monotonic() >= this.#endsAt;
  }

  get aborted(): Promise<never> {
    if (this.#aborted === undefined) {
      this.#aborted = new Promise<never>((_resolve, reject) => this.onAbort(reject));
      this.#aborted.catch(noop);
    }
    return this.#aborted;
  }

  onAbort(callback: (reason: unknown) => void): () => void {
    if (this.signal.aborted) {
      callback(this.signal.reason);
      return noop;
    }
    const callbacks = (this.#callbacks ??= new Set());
    callbacks.add(callback);
    return () => callbacks.delete(callback);
  }

  dispose(): void {
    this.#cancelTimer();
    this.#parent?.removeEventListener('abort', this.#forward);
  }
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
  const toError = (reason: unknown): ProviderError => toAbortError(reason, provider, deployment);
  if (firstTokenMs === undefined && idleMs === undefined) {
    if (deadline.timeoutMs === undefined)
      return { signal: deadline.signal, step: passThrough, firstContent: noop, dispose: noop };
    const steps = createSteps((callback) => deadline.onAbort(callback), toError);
    return { signal: deadline.signal, step: steps.step, firstContent: noop, dispose: steps.dispose };
  }
  // Stream timeouts: the attempt's own signal, aborted by the deadline, the first-token or the idle timer.
  const controller = new AbortController();
  let failed: ((reason: unknown) => void) | undefined;
  const abort = (reason: unknown): void => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    failed?.(reason);
  };
  const steps = createSteps((callback) => {
    failed = callback;
    if (controller.signal.aborted) callback(controller.signal.reason);
    return () => (failed = undefined);
  }, toError);
  const stopForwarding = deadline.onAbort(abort);
  const timeout = (message: string) => new ProviderError({ kind: 'timeout', message, provider, deployment });
  let cancelFirstToken: (() => void) | undefined;
  if (firstTokenMs !== undefined) {
    cancelFirstToken = scheduleOnClock(clock, firstTokenMs, () =>
      abort(timeout(`${provider} sent no first token within ${firstTokenMs} ms`)),
    );
  }
  return {
    signal: controller.signal,
    step<T>(promise: Promise<T>): Promise<T> {
      if (idleMs === undefined) return steps.step(promise);
      const cancelIdle = scheduleOnClock(clock, idleMs, () =>
        abort(timeout(`${provider} stream was silent for ${idleMs} ms`)),
      );
      return steps.step(promise).finally(cancelIdle);
    },
    firstContent() {
      cancelFirstToken?.();
      cancelFirstToken = undefined;
    },
    dispose() {
      cancelFirstToken?.();
      stopForwarding();
      steps.dispose();
    },
  };
}

/**
 * Awaited steps that fail as soon as the attempt is aborted, even when their source ignores its
 * signal. Cheaper than `Promise.race` against a rejection promise, which piled one reaction per
 * chunk of a stream on a promise that never settles: steps are awaited one at a time, so the
 * latest step's `reject` is all that needs keeping, and nothing is subscribed until the first step.
 */
function createSteps(
  subscribe: (onAbort: (reason: unknown) => void) => () => void,
  toError: (reason: unknown) => ProviderError,
): { step<T>(promise: Promise<T>): Promise<T>; dispose(): void } {
  let rejectCurrent: ((error: unknown) => void) | undefined;
  let failure: ProviderError | undefined;
  let unsubscribe: (() => void) | undefined;
  const onAbort = (reason: unknown): void => {
    failure ??= toError(reason);
    rejectCurrent?.(failure);
    rejectCurrent = undefined;
  };
  return {
    step<T>(promise: Promise<T>): Promise<T> {
      unsubscribe ??= subscribe(onAbort);
      if (failure !== undefined) {
        promise.catch(noop); // the source may still fail later, with nobody listening
        return Promise.reject(failure);
      }
      // (Settling a promise twice is a no-op: a stale rejectCurrent after its step resolved is harmless.)
      return new Promise<T>((resolve, reject) => {
        rejectCurrent = reject;
        promise.then(resolve, reject);
      });
    },
    dispose() {
      unsubscribe?.();
      rejectCurrent = undefined;
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
