import { PipewrightError, type Clock } from '../core/index.ts';

/**
 * Where rate-limit counters live. The in-memory store serves one process; a Redis store (same
 * contract, one Lua script per call) makes limits hold across gateway replicas.
 */
export interface RateLimitStore {
  /**
   * Atomically adds `amount` to `key`'s sliding window of `windowMs` if the window's usage then
   * stays within `limit`; otherwise adds nothing and says how long until it would fit
   * (`retryInMs` is Infinity when `amount` alone exceeds `limit`).
   */
  consume(key: string, amount: number, limit: number, windowMs: number): Promise<{ allowed: true } | { allowed: false; retryInMs: number }>;
  /** Adds `delta` (negative to give back) to `key`'s current window: settles an estimate with the real usage. */
  adjust(key: string, delta: number, windowMs: number): Promise<void>;
}

interface WindowCounter {
  /** Index of the current fixed window (time / windowMs). */
  index: number;
  current: number;
  previous: number;
}

/**
 * An in-process store: a sliding-window counter per key (the previous fixed window weighted by
 * how much of it still overlaps the sliding window, plus the current one), as Cloudflare and
 * most gateways use: constant memory per key, no per-request timestamps.
 *
 * @example
 * const store = createMemoryRateLimitStore({ clock });
 * await store.consume('deployment:gpt-eu:rpm', 1, 500, 60_000); // { allowed: true }
 */
export function createMemoryRateLimitStore(options: { clock: Clock }): RateLimitStore & { /** Keys held in memory. */ size(): number } {
  const { clock } = options;
  const counters = new Map<string, WindowCounter & { windowMs: number }>();
  let operations = 0;

  // Keys come and go (tenants): every 1,000 operations, forget counters whose windows are over.
  function sweep(): void {
    if (++operations % 1_000 !== 0) return;
    const now = clock.now();
    for (const [key, counter] of counters) {
      if (counter.index < Math.floor(now / counter.windowMs) - 1) counters.delete(key);
    }
  }

  function read(key: string, windowMs: number): { counter: WindowCounter; estimate: number; elapsed: number } {
    const now = clock.now();
    const index = Math.floor(now / windowMs);
    sweep();
    let counter = counters.get(key);
    if (counter === undefined) {
      counter = { index, current: 0, previous: 0, windowMs };
      counters.set(key, counter);
    } else if (counter.index !== index) {
      counter.previous = counter.index === index - 1 ? counter.current : 0;
      counter.current = 0;
      counter.index = index;
    }
    const elapsed = now - index * windowMs;
    const estimate = counter.previous * (1 - elapsed / windowMs) + counter.current;
    return { counter, estimate, elapsed };
  }

  return {
    async consume(key, amount, limit, windowMs) {
      if (amount > limit) return { allowed: false, retryInMs: Infinity };
      const { counter, estimate, elapsed } = read(key, windowMs);
      if (estimate + amount <= limit) {
        counter.current += amount;
        return { allowed: true };
      }
      const excess = estimate + amount - limit;
      const remainingInWindow = windowMs - elapsed;
      // Within this window the previous one's share drains linearly…
      const drainPerMs = counter.previous / windowMs;
      if (drainPerMs > 0 && excess / drainPerMs <= remainingInWindow) return { allowed: false, retryInMs: Math.ceil(excess / drainPerMs) };
      // …after it, the current window becomes the previous one and drains in turn.
      const carried = counter.current;
      const fraction = carried === 0 ? 0 : Math.min(1, (carried + amount - limit) / carried);
      return { allowed: false, retryInMs: Math.ceil(remainingInWindow + Math.max(0, fraction) * windowMs) };
    },
    async adjust(key, delta, windowMs) {
      const { counter } = read(key, windowMs);
      counter.current = Math.max(0, counter.current + delta);
    },
    size: () => counters.size,
  };
}

/** Requests and tokens per minute; either may be absent. */
export interface RateLimits {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
}

/** Tokens taken before a call on an estimate; `settle` replaces the estimate with the real count. */
export interface RateLimitReservation {
  settle(actualTokens: number): void;
}

export interface RateLimiter {
  /**
   * Takes one request and `estimatedTokens` from every limit of `subject`, waiting up to
   * `maxWaitMs` for room (0 = fail fast). Rejects with `gateway.rate_limited` (429, with
   * `details.retryAfterMs`) when there is none in time.
   */
  acquire(subject: string, limits: RateLimits, estimatedTokens: number, wait: { maxWaitMs: number; signal?: AbortSignal | undefined }): Promise<RateLimitReservation>;
  /** One try, no waiting: null when over the limit (with how long until it would fit). */
  tryAcquire(subject: string, limits: RateLimits, estimatedTokens: number): Promise<{ reservation: RateLimitReservation } | { reservation: null; retryInMs: number }>;
}

const minuteMs = 60_000;
const noReservation: RateLimitReservation = { settle: () => undefined };

/**
 * Rate limits per subject (`deployment:gpt-eu`, `tenant:acme`): requests and tokens per minute,
 * tokens estimated before the call and settled with the real usage after.
 *
 * @example
 * const limiter = createRateLimiter({ clock, store: createMemoryRateLimitStore({ clock }) });
 * const reservation = await limiter.acquire('tenant:acme', { requestsPerMinute: 60, tokensPerMinute: 100_000 }, 1_200, { maxWaitMs: 5_000 });
 * reservation.settle(response.usage.total_tokens);
 */
export function createRateLimiter(options: { clock: Clock; store: RateLimitStore }): RateLimiter {
  const { clock, store } = options;

  async function tryAcquire(subject: string, limits: RateLimits, estimatedTokens: number): Promise<{ reservation: RateLimitReservation } | { reservation: null; retryInMs: number }> {
    const requestKey = `${subject}:rpm`;
    const tokenKey = `${subject}:tpm`;
    const tokens = Math.max(0, Math.ceil(estimatedTokens));
    if (limits.requestsPerMinute !== undefined) {
      const result = await store.consume(requestKey, 1, limits.requestsPerMinute, minuteMs);
      if (!result.allowed) return { reservation: null, retryInMs: result.retryInMs };
    }
    if (limits.tokensPerMinute !== undefined) {
      const result = await store.consume(tokenKey, tokens, limits.tokensPerMinute, minuteMs);
      if (!result.allowed) {
        // Give the request back: it was not made.
        if (limits.requestsPerMinute !== undefined) await store.adjust(requestKey, -1, minuteMs);
        return { reservation: null, retryInMs: result.retryInMs };
      }
    }
    if (limits.tokensPerMinute === undefined) return { reservation: noReservation };
    let settled = false;
    return {
      reservation: {
        settle(actualTokens) {
          if (settled) return;
          settled = true;
          const delta = Math.max(0, Math.ceil(actualTokens)) - tokens;
          if (delta !== 0) void store.adjust(tokenKey, delta, minuteMs).catch(() => undefined);
        },
      },
    };
  }

  return {
    tryAcquire,
    async acquire(subject, limits, estimatedTokens, wait) {
      let waited = 0;
      for (;;) {
        const attempt = await tryAcquire(subject, limits, estimatedTokens);
        if (attempt.reservation !== null) return attempt.reservation;
        const pause = Math.max(1, attempt.retryInMs);
        if (waited + pause > wait.maxWaitMs || wait.signal?.aborted === true) throw createRateLimitedError(subject, attempt.retryInMs);
        try {
          await clock.sleep(pause, wait.signal);
        } catch {
          throw createRateLimitedError(subject, attempt.retryInMs - pause);
        }
        waited += pause;
      }
    },
  };
}

/** The 429 of our own limiter, with a retry-after when one can be computed. */
export function createRateLimitedError(subject: string, retryInMs: number): PipewrightError {
  const finite = Number.isFinite(retryInMs);
  return new PipewrightError({
    code: 'gateway.rate_limited',
    message: finite ? `rate limit of ${subject} reached; room again in ${Math.ceil(Math.max(0, retryInMs))} ms` : `the request alone exceeds the token limit of ${subject}`,
    ...(finite ? { details: { subject, retryAfterMs: Math.max(0, Math.ceil(retryInMs)) } } : { isRetryable: false, details: { subject } }),
  });
}

/**
 * A cheap token estimate of a chat request before it is sent (about 4 characters per token, plus
 * the answer budget when `max_tokens` is set): the limiter settles it with the real usage.
 *
 * @example
 * estimateRequestTokens({ messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 100 }); // 105
 */
export function estimateRequestTokens(request: { messages?: ReadonlyArray<{ content?: unknown }>; max_tokens?: number | null | undefined; max_completion_tokens?: number | null | undefined }): number {
  let characters = 0;
  for (const message of request.messages ?? []) {
    const content = message.content;
    if (typeof content === 'string') characters += content.length;
    else if (content !== undefined && content !== null) characters += JSON.stringify(content).length;
  }
  return Math.ceil(characters / 4) + (request.max_completion_tokens ?? request.max_tokens ?? 0);
}
