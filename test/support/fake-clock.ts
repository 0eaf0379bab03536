import type { Clock } from '../../src/core/index.ts';

interface Timer {
  at: number;
  sequence: number;
  fire(): void;
}

/**
 * A Clock whose time moves only when the test says so. `run(promise)` drives time forward to
 * each next timer whenever the code under test is idle, so retries, backoffs and breaker open
 * periods take no real time.
 */
export function createFakeClock(options: { epochMs?: number } = {}) {
  const epoch = options.epochMs ?? 1_700_000_000_000;
  let now = 0;
  let sequence = 0;
  const timers: Timer[] = [];

  const flush = async (): Promise<void> => {
    for (let index = 0; index < 5; index++) await new Promise<void>((resolve) => setImmediate(resolve));
  };

  function fireDue(until: number): boolean {
    timers.sort((left, right) => left.at - right.at || left.sequence - right.sequence);
    const next = timers[0];
    if (next === undefined || next.at > until) return false;
    timers.shift();
    now = Math.max(now, next.at);
    next.fire();
    return true;
  }

  const clock: Clock & {
    advance(ms: number): Promise<void>;
    run<T>(promise: Promise<T>, options?: { busy?: () => boolean }): Promise<T>;
    pendingTimers(): number;
    elapsed(): number;
  } = {
    now: () => epoch + now,
    monotonic: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(signal.reason);
          return;
        }
        const timer: Timer = {
          at: now + Math.max(0, ms),
          sequence: sequence++,
          fire: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        function onAbort(): void {
          const index = timers.indexOf(timer);
          if (index !== -1) timers.splice(index, 1);
          reject(signal?.reason);
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        timers.push(timer);
      });
    },
    schedule(ms, callback) {
      const timer: Timer = { at: now + Math.max(0, ms), sequence: sequence++, fire: callback };
      timers.push(timer);
      return () => {
        const index = timers.indexOf(timer);
        if (index !== -1) timers.splice(index, 1);
      };
    },
    /** Moves time forward by `ms`, firing due timers in order and letting the code react to each. */
    async advance(ms) {
      const target = now + ms;
      await flush();
      while (fireDue(target)) await flush();
      now = target;
      await flush();
    },
    /**
     * Settles `promise`, jumping to the next timer whenever nothing else is happening. `busy`
     * says that real I/O is still under way (an HTTP call to a real server): time then stands
     * still until it is done, so no timer fires early because the machine is slow.
     */
    async run(promise, options = {}) {
      let settled = false;
      promise.then(
        () => (settled = true),
        () => (settled = true),
      );
      for (let step = 0; step < 100_000 && !settled; step++) {
        await flush();
        if (settled) break;
        if (options.busy?.() === true || !fireDue(Infinity))
          await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return promise;
    },
    pendingTimers: () => timers.length,
    elapsed: () => now,
  };
  return clock;
}
