import { PipewrightError, scheduleOnClock, type Clock } from '../core/index.ts';
import { createFairQueue, type FairQueue, type FairQueueBounds } from './fair-queue.ts';

interface Waiter {
  tenant: string;
  grant(): void;
}

interface Compartment {
  inFlight: number;
  queue: FairQueue<Waiter>;
}

/**
 * Caps of calls in flight per key (a deployment, a tenant), so one slow provider or one noisy
 * tenant cannot take every socket and every byte of memory of the process.
 */
export interface Bulkhead {
  /** Takes a slot when fewer than `limit` calls are in flight under `key`. */
  tryAcquire(key: string, limit: number): boolean;
  /**
   * Takes a slot, waiting in line for at most `maxWaitMs` or until the signal aborts: waiters
   * take turns by `tenant` (round-robin), first come first served within a tenant. Rejects with
   * `gateway.overloaded` when the wait ends without a slot or the line is full.
   */
  acquire(
    key: string,
    limit: number,
    wait: { maxWaitMs: number; signal?: AbortSignal | undefined; tenant?: string | undefined },
  ): Promise<void>;
  release(key: string): void;
  inFlight(key: string): number;
  /** Requests waiting for a slot under `key`. */
  queued(key: string): number;
}

/**
 * Creates a keyed bulkhead. On release a slot is handed over to the next waiter in turn (round-
 * robin between tenants), so a waiter is never overtaken by a newcomer and a tenant with many
 * waiters cannot starve one with a single waiter. The line is bounded (`queue`).
 *
 * @example
 * const bulkhead = createBulkhead({ clock });
 * await bulkhead.acquire(`tenant:${tenantId}`, 20, { maxWaitMs: 5_000, signal });
 * try { await call(); } finally { bulkhead.release(`tenant:${tenantId}`); }
 */
export function createBulkhead(options: { clock: Clock; queue?: FairQueueBounds | undefined }): Bulkhead {
  const { clock } = options;
  const compartments = new Map<string, Compartment>();

  function compartment(key: string): Compartment {
    let found = compartments.get(key);
    if (found === undefined) {
      found = { inFlight: 0, queue: createFairQueue<Waiter>(options.queue) };
      compartments.set(key, found);
    }
    return found;
  }

  return {
    tryAcquire(key, limit) {
      const found = compartment(key);
      if (found.inFlight >= limit || found.queue.size > 0) return false;
      found.inFlight += 1;
      return true;
    },

    acquire(key, limit, wait) {
      const found = compartment(key);
      if (found.inFlight < limit && found.queue.size === 0) {
        found.inFlight += 1;
        return Promise.resolve();
      }
      if (wait.maxWaitMs <= 0 || wait.signal?.aborted === true)
        return Promise.reject(createOverloadedError(key, limit));
      return new Promise<void>((resolve, reject) => {
        let cancelTimer: () => void = () => undefined;
        const onAbort = (): void => giveUp();
        const waiter: Waiter = {
          tenant: wait.tenant ?? '',
          grant() {
            cleanup();
            resolve();
          },
        };
        function cleanup(): void {
          cancelTimer();
          wait.signal?.removeEventListener('abort', onAbort);
        }
        function giveUp(): void {
          if (!found.queue.remove(waiter.tenant, waiter)) return;
          cleanup();
          reject(createOverloadedError(key, limit));
        }
        if (!found.queue.push(waiter.tenant, waiter)) {
          reject(createOverloadedError(key, limit));
          return;
        }
        wait.signal?.addEventListener('abort', onAbort, { once: true });
        cancelTimer = scheduleOnClock(clock, wait.maxWaitMs, giveUp);
      });
    },

    release(key) {
      const found = compartments.get(key);
      if (found === undefined) return;
      const next = found.queue.shift();
      // The slot passes straight to the next waiter: inFlight stays the same.
      if (next !== undefined) {
        next.grant();
        return;
      }
      found.inFlight = Math.max(0, found.inFlight - 1);
      if (found.inFlight === 0) compartments.delete(key);
    },

    inFlight: (key) => compartments.get(key)?.inFlight ?? 0,
    queued: (key) => compartments.get(key)?.queue.size ?? 0,
  };
}

/** The 429 a caller sees when a bulkhead is full and waiting did not help. */
export function createOverloadedError(key: string, limit: number): PipewrightError {
  return new PipewrightError({
    code: 'gateway.overloaded',
    message: `too many calls in flight for ${key} (limit ${limit}); try again shortly`,
    details: { bulkhead: key, limit, retryAfterMs: 1000 },
  });
}
