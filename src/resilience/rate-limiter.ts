import { PipewrightError, scheduleOnClock, type Clock } from '../core/index.ts';
import { createFairQueue, type FairQueue, type FairQueueBounds } from './fair-queue.ts';

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
  consume(
    key: string,
    amount: number,
    limit: number,
    windowMs: number,
  ): Promise<{ allowed: true } | { allowed: false; retryInMs: number }>;
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
export function createMemoryRateLimitStore(options: {
  clock: Clock;
}): RateLimitStore & { /** Keys held in memory. */ size(): number } {
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

  function read(
    key: string,
    windowMs: number,
  ): { counter: WindowCounter; estimate: number; elapsed: number } {
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
      if (drainPerMs > 0 && excess / drainPerMs <= remainingInWindow)
        return { allowed: false, retryInMs: Math.ceil(excess / drainPerMs) };
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
  /** Gives everything back (the request and its tokens): the call was never made. */
  cancel(): void;
}

/** How long a request may wait for room, and on whose behalf (waiters are served round-robin between tenants). */
export interface RateLimitWait {
  /** 0 = fail fast. */
  maxWaitMs: number;
  signal?: AbortSignal | undefined;
  /** The tenant the request belongs to; waiters of one subject take turns by tenant. */
  tenant?: string | undefined;
}

export interface RateLimiter {
  /**
   * Takes one request and `estimatedTokens` from every limit of `subject`, waiting up to
   * `maxWaitMs` for room (0 = fail fast). Waiters of one subject are served round-robin between
   * tenants, first come first served within a tenant; a newcomer never overtakes them. Rejects
   * with `gateway.rate_limited` (429, with `details.retryAfterMs`) when there is no room in time,
   * when the signal aborts, or when the queue is full.
   */
  acquire(
    subject: string,
    limits: RateLimits,
    estimatedTokens: number,
    wait: RateLimitWait,
  ): Promise<RateLimitReservation>;
  /** One try, no waiting: null when over the limit or when others are already waiting (with how long until it would fit). */
  tryAcquire(
    subject: string,
    limits: RateLimits,
    estimatedTokens: number,
  ): Promise<{ reservation: RateLimitReservation } | { reservation: null; retryInMs: number }>;
  /** Requests waiting for room under `subject`. */
  queued(subject: string): number;
}

const minuteMs = 60_000;
const noReservation: RateLimitReservation = { settle: () => undefined, cancel: () => undefined };

interface LimiterWaiter {
  tenant: string;
  limits: RateLimits;
  tokens: number;
  /** Monotonic ms after which it stops waiting. */
  until: number;
  grant(reservation: RateLimitReservation): void;
  refuse(error: unknown): void;
}

/** The waiters of one subject and the loop that serves them. */
interface SubjectLine {
  queue: FairQueue<LimiterWaiter>;
  pumping: boolean;
  /** Wakes the serving loop early (a waiter left, so the next one may fit sooner). */
  wake: AbortController | null;
  lastRetryInMs: number;
}

/**
 * Rate limits per subject (`deployment:gpt-eu`, `tenant:acme`): requests and tokens per minute,
 * tokens estimated before the call and settled with the real usage after. Over the limit, a
 * request waits in a queue that is fair across tenants (round-robin, bounded) until its wait or
 * deadline ends.
 *
 * @example
 * const limiter = createRateLimiter({ clock, store: createMemoryRateLimitStore({ clock }) });
 * const reservation = await limiter.acquire('deployment:gpt-eu', { requestsPerMinute: 60, tokensPerMinute: 100_000 }, 1_200, { maxWaitMs: 5_000, tenant: 'acme' });
 * reservation.settle(response.usage.total_tokens);
 */
// eslint-disable-next-line max-lines-per-function -- a factory: take, serve, enqueue, tryAcquire and acquire sharing the per-subject waiting lines; enqueue is 55 lines, the rest under 45
export function createRateLimiter(options: {
  clock: Clock;
  store: RateLimitStore;
  queue?: FairQueueBounds | undefined;
}): RateLimiter {
  const { clock, store } = options;
  const lines = new Map<string, SubjectLine>();

  async function take(
    subject: string,
    limits: RateLimits,
    estimatedTokens: number,
  ): Promise<{ reservation: RateLimitReservation } | { reservation: null; retryInMs: number }> {
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
    if (limits.tokensPerMinute === undefined && limits.requestsPerMinute === undefined)
      return { reservation: noReservation };
    let settled = false;
    const giveBack = (key: string, delta: number): void => {
      if (delta !== 0) void store.adjust(key, delta, minuteMs).catch(() => undefined);
    };
    return {
      reservation: {
        settle(actualTokens) {
          if (settled || limits.tokensPerMinute === undefined) return;
          settled = true;
          giveBack(tokenKey, Math.max(0, Math.ceil(actualTokens)) - tokens);
        },
        cancel() {
          if (settled) return;
          settled = true;
          if (limits.requestsPerMinute !== undefined) giveBack(requestKey, -1);
          if (limits.tokensPerMinute !== undefined) giveBack(tokenKey, -tokens);
        },
      },
    };
  }

  /** Serves a subject's waiters in turn, sleeping until the store says there is room. */
  async function serve(subject: string, line: SubjectLine): Promise<void> {
    if (line.pumping) return;
    line.pumping = true;
    try {
      for (;;) {
        const head = line.queue.peek();
        if (head === undefined) break;
        let attempt: Awaited<ReturnType<typeof take>>;
        try {
          attempt = await take(subject, head.limits, head.tokens);
        } catch (error) {
          if (line.queue.remove(head.tenant, head)) head.refuse(error);
          continue;
        }
        if (attempt.reservation !== null) {
          // The head may have left while the store answered: then the room goes back.
          if (line.queue.peek() === head) {
            line.queue.shift();
            head.grant(attempt.reservation);
          } else {
            attempt.reservation.cancel();
          }
          continue;
        }
        line.lastRetryInMs = attempt.retryInMs;
        if (!Number.isFinite(attempt.retryInMs) || clock.monotonic() + attempt.retryInMs > head.until) {
          // It cannot fit before its wait ends: tell it now rather than at the end of the wait.
          if (line.queue.remove(head.tenant, head))
            head.refuse(createRateLimitedError(subject, attempt.retryInMs));
          continue;
        }
        line.wake = new AbortController();
        await clock.sleep(Math.max(1, attempt.retryInMs), line.wake.signal).catch(() => undefined);
        line.wake = null;
      }
    } finally {
      line.pumping = false;
      if (line.queue.size === 0 && lines.get(subject) === line) lines.delete(subject);
    }
  }

  function enqueue(
    subject: string,
    limits: RateLimits,
    tokens: number,
    wait: RateLimitWait,
  ): Promise<RateLimitReservation> {
    let line = lines.get(subject);
    if (line === undefined) {
      line = {
        queue: createFairQueue<LimiterWaiter>(options.queue),
        pumping: false,
        wake: null,
        lastRetryInMs: 1,
      };
      lines.set(subject, line);
    }
    const subjectLine = line;
    return new Promise<RateLimitReservation>((resolve, reject) => {
      let cancelTimer: () => void = () => undefined;
      const onAbort = (): void => leave();
      const cleanup = (): void => {
        cancelTimer();
        wait.signal?.removeEventListener('abort', onAbort);
      };
      const waiter: LimiterWaiter = {
        tenant: wait.tenant ?? '',
        limits,
        tokens,
        until: clock.monotonic() + wait.maxWaitMs,
        grant(reservation) {
          cleanup();
          resolve(reservation);
        },
        refuse(error) {
          cleanup();
          reject(error);
        },
      };
      function leave(): void {
        if (!subjectLine.queue.remove(waiter.tenant, waiter)) return;
        waiter.refuse(createRateLimitedError(subject, subjectLine.lastRetryInMs));
        subjectLine.wake?.abort();
        if (subjectLine.queue.size === 0 && !subjectLine.pumping && lines.get(subject) === subjectLine)
          lines.delete(subject);
      }
      if (!subjectLine.queue.push(waiter.tenant, waiter)) {
        if (subjectLine.queue.size === 0 && !subjectLine.pumping) lines.delete(subject);
        reject(createRateLimitedError(subject, subjectLine.lastRetryInMs, 'its wait queue is full'));
        return;
      }
      wait.signal?.addEventListener('abort', onAbort, { once: true });
      cancelTimer = scheduleOnClock(clock, wait.maxWaitMs, leave);
      void serve(subject, subjectLine);
    });
  }

  return {
    async tryAcquire(subject, limits, estimatedTokens) {
      const line = lines.get(subject);
      // Others are waiting for this subject: a newcomer does not overtake them.
      if (line !== undefined && line.queue.size > 0)
        return { reservation: null, retryInMs: Math.max(1, line.lastRetryInMs) };
      return take(subject, limits, estimatedTokens);
    },
    async acquire(subject, limits, estimatedTokens, wait) {
      const waiting = lines.get(subject)?.queue.size ?? 0;
      if (waiting === 0) {
        const attempt = await take(subject, limits, estimatedTokens);
        if (attempt.reservation !== null) return attempt.reservation;
        if (
          !Number.isFinite(attempt.retryInMs) ||
          attempt.retryInMs > wait.maxWaitMs ||
          wait.signal?.aborted === true
        )
          throw createRateLimitedError(subject, attempt.retryInMs);
      } else if (wait.maxWaitMs <= 0 || wait.signal?.aborted === true) {
        throw createRateLimitedError(subject, lines.get(subject)?.lastRetryInMs ?? 1);
      }
      return enqueue(subject, limits, Math.max(0, Math.ceil(estimatedTokens)), wait);
    },
    queued: (subject) => lines.get(subject)?.queue.size ?? 0,
  };
}

/** The 429 of our own limiter, with a retry-after when one can be computed. */
export function createRateLimitedError(subject: string, retryInMs: number, why = 'reached'): PipewrightError {
  const finite = Number.isFinite(retryInMs);
  return new PipewrightError({
    code: 'gateway.rate_limited',
    message: finite
      ? `rate limit of ${subject} ${why}; room again in ${Math.ceil(Math.max(0, retryInMs))} ms`
      : `the request alone exceeds the token limit of ${subject}`,
    ...(finite
      ? { details: { subject, retryAfterMs: Math.max(0, Math.ceil(retryInMs)) } }
      : { isRetryable: false, details: { subject } }),
  });
}

/**
 * A cheap token estimate of a chat request before it is sent (about 4 characters per token, plus
 * the answer budget when `max_tokens` is set): the limiter settles it with the real usage.
 *
 * @example
 * estimateRequestTokens({ messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 100 }); // 105
 */
export function estimateRequestTokens(request: {
  messages?: ReadonlyArray<{ content?: unknown }>;
  max_tokens?: number | null | undefined;
  max_completion_tokens?: number | null | undefined;
}): number {
  let characters = 0;
  for (const message of request.messages ?? []) {
    const content = message.content;
    if (typeof content === 'string') characters += content.length;
    else if (content !== undefined && content !== null) characters += JSON.stringify(content).length;
  }
  return Math.ceil(characters / 4) + (request.max_completion_tokens ?? request.max_tokens ?? 0);
}
