import { setTimeout as sleepTimer } from 'node:timers/promises';

/** Time as a dependency, so tests can fake it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** A monotonic high-resolution reading in milliseconds, for durations. */
  monotonic(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `callback` after `ms` unless cancelled first: a plain timer, much cheaper than an
   * aborted `sleep` on hot paths (deadlines). Optional; `scheduleOnClock` falls back to `sleep`.
   * With `background`, the timer alone does not keep the process alive (a deadline guards work
   * that holds the process by itself: a socket, a stream someone reads).
   */
  schedule?(ms: number, callback: () => void, options?: ScheduleOptions): () => void;
}

export interface ScheduleOptions {
  /** The timer alone does not keep the process alive. */
  background?: boolean;
}

/**
 * Runs `callback` after `ms` on the given clock; returns the cancel function.
 *
 * @example
 * const cancel = scheduleOnClock(clock, 30_000, () => controller.abort());
 * cancel(); // the request finished first
 */
export function scheduleOnClock(
  clock: Clock,
  ms: number,
  callback: () => void,
  options?: ScheduleOptions,
): () => void {
  if (clock.schedule !== undefined) return clock.schedule(ms, callback, options);
  const timer = new AbortController();
  clock.sleep(ms, timer.signal).then(callback, () => undefined);
  return () => timer.abort();
}

/** The real clock. */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    sleep: async (ms, signal) => {
      await sleepTimer(ms, undefined, signal === undefined ? undefined : { signal });
    },
    schedule: (ms, callback, options) => {
      const timer = setTimeout(callback, ms);
      if (options?.background === true) timer.unref();
      return () => clearTimeout(timer);
    },
  };
}
