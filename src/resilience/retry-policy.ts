import { ProviderError, type PipewrightError, type ProviderErrorKind } from '../core/index.ts';

/** How often and how patiently one deployment is retried before the pipeline moves on. */
export interface RetryPolicy {
  /** Tries per deployment, the first included (1 = no retry). */
  maxAttempts: number;
  /** The backoff cap of the first retry; doubles per retry (full jitter draws below it). */
  initialDelayMs: number;
  /** The largest backoff cap. */
  maxDelayMs: number;
  /** A provider asking to wait longer than this is not waited for: the next deployment is tried. */
  maxRetryAfterMs: number;
}

/** Two retries, like the official OpenAI and Anthropic SDKs; retry-after honoured up to 60 s (as Portkey and the Vercel AI SDK do). */
export const defaultRetryPolicy: Readonly<RetryPolicy> = {
  maxAttempts: 3,
  initialDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/**
 * Kinds that trying the same deployment again can fix. Everything else is permanent here:
 * a bad key, exhausted quota or a spend limit, a too-long or filtered prompt, an invalid
 * request, an unknown model, or the caller's own abort.
 */
const transientKinds: ReadonlySet<ProviderErrorKind> = new Set<ProviderErrorKind>([
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'connection',
  'stream_cut',
  'malformed_response',
]);

/** Whether trying the same deployment again can help. */
export function isRetryableOnSameDeployment(error: PipewrightError): boolean {
  return ProviderError.isProviderError(error) && transientKinds.has(error.kind);
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: 'permanent' | 'attempts_exhausted' | 'retry_after_too_long' | 'deadline' };

/**
 * Decides whether to try the same deployment again and after how long: exponential backoff
 * with full jitter (`random() × min(maxDelay, initial × 2^(n-1))`), or exactly the provider's
 * retry-after when it gave one. A wait that would end past the deadline is never started.
 *
 * @param attemptsMade - Tries already made on this deployment (>= 1).
 * @param remainingMs - Time left before the request's deadline (Infinity without one).
 * @param random - A source in [0, 1), injected so tests are deterministic.
 *
 * @example
 * decideRetry(defaultRetryPolicy, error, 1, 5_000, Math.random); // { retry: true, delayMs: 137 }
 */
export function decideRetry(
  policy: RetryPolicy,
  error: PipewrightError,
  attemptsMade: number,
  remainingMs: number,
  random: () => number,
): RetryDecision {
  if (!isRetryableOnSameDeployment(error)) return { retry: false, reason: 'permanent' };
  if (attemptsMade >= policy.maxAttempts) return { retry: false, reason: 'attempts_exhausted' };
  const hint = (error as ProviderError).retryAfterMs;
  let delayMs: number;
  if (hint !== undefined) {
    if (hint > policy.maxRetryAfterMs) return { retry: false, reason: 'retry_after_too_long' };
    delayMs = hint;
  } else {
    delayMs = computeBackoffMs(policy, attemptsMade, random);
  }
  // Waiting and then having no time left for the call itself helps no one.
  if (delayMs >= remainingMs) return { retry: false, reason: 'deadline' };
  return { retry: true, delayMs };
}

/**
 * Full-jitter backoff for the `retryNumber`-th retry (1-based).
 *
 * @example
 * computeBackoffMs({ ...defaultRetryPolicy, initialDelayMs: 100 }, 3, () => 0.5); // 200 (half of 400)
 */
export function computeBackoffMs(
  policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>,
  retryNumber: number,
  random: () => number,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.floor(random() * cap);
}
