/** Identifies a flight: the tenant is always part of it, so a join never crosses tenants. */
export interface FlightKey {
  tenant: string;
  /** Usually the exact-cache key of the request. */
  key: string;
}

export interface FlightResult<T> {
  value: T;
  /** True when this caller joined a call another caller started. */
  shared: boolean;
}

export interface FlightStream<T> {
  /** Every chunk of the upstream stream from the first, whenever this caller joined. */
  chunks: AsyncIterable<T>;
  shared: boolean;
}

export interface SingleFlight {
  /**
   * Runs `call` once for all identical concurrent callers. The call's signal aborts only when
   * every caller waiting on it has aborted; a failure reaches every caller.
   */
  run<T>(
    flight: FlightKey,
    call: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<FlightResult<T>>;
  /**
   * Streams `call` once for all identical concurrent callers. Chunks are buffered so a caller
   * that joins late still receives the whole stream from its first chunk.
   */
  stream<T>(
    flight: FlightKey,
    call: (signal: AbortSignal) => AsyncIterable<T>,
    signal?: AbortSignal,
  ): FlightStream<T>;
  /** Calls currently in flight (for metrics and tests). */
  size(): number;
}

interface Flight {
  controller: AbortController;
  waiters: number;
}

interface WholeFlight extends Flight {
  promise: Promise<unknown>;
}

interface StreamFlight extends Flight {
  chunks: unknown[];
  state: 'running' | 'done' | 'failed';
  error: unknown;
  wake: Set<() => void>;
}

/**
 * Single-flight for whole answers and streams. Whole answers and streams of the same request are
 * separate flights (a stream caller needs the chunks as they come).
 *
 * @example
 * const flights = createSingleFlight();
 * const { value, shared } = await flights.run({ tenant, key }, (signal) => callUpstream(request, signal), clientSignal);
 */
export function createSingleFlight(): SingleFlight {
  const flights = new Map<string, WholeFlight | StreamFlight>();
  const idOf = (kind: string, flight: FlightKey) => JSON.stringify([kind, flight.tenant, flight.key]);

  /** Registers a caller; the returned function (idempotent) unregisters it and aborts the call when nobody is left. */
  const join = (flight: Flight): (() => void) => {
    flight.waiters += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      flight.waiters -= 1;
      if (flight.waiters === 0)
        flight.controller.abort(new DOMException('every caller of the shared call went away', 'AbortError'));
    };
  };

  return {
    run: async <T>(
      key: FlightKey,
      call: (signal: AbortSignal) => Promise<T>,
      signal?: AbortSignal,
    ): Promise<FlightResult<T>> => {
      signal?.throwIfAborted();
      const id = idOf('whole', key);
      let flight = flights.get(id) as WholeFlight | undefined;
      const shared = flight !== undefined;
      if (flight === undefined) {
        const controller = new AbortController();
        const created: WholeFlight = { controller, waiters: 0, promise: Promise.resolve() };
        created.promise = (async () => call(controller.signal))().finally(() => {
          if (flights.get(id) === created) flights.delete(id);
        });
        // A flight whose every caller left must not raise an unhandled rejection.
        created.promise.catch(() => undefined);
        flights.set(id, created);
        flight = created;
      }
      const leave = join(flight);
      try {
        const value = (await raceAbort(flight.promise, signal)) as T;
        return { value, shared };
      } finally {
        leave();
      }
    },

    stream: <T>(
      key: FlightKey,
      call: (signal: AbortSignal) => AsyncIterable<T>,
      signal?: AbortSignal,
    ): FlightStream<T> => {
      signal?.throwIfAborted();
      const id = idOf('stream', key);
      let flight = flights.get(id) as StreamFlight | undefined;
      const shared = flight !== undefined;
      if (flight === undefined) {
        const created: StreamFlight = {
          controller: new AbortController(),
          waiters: 0,
          chunks: [],
          state: 'running',
          error: undefined,
          wake: new Set(),
        };
        flights.set(id, created);
        void pump(created, call, () => {
          if (flights.get(id) === created) flights.delete(id);
        });
        flight = created;
      }
      const leave = join(flight);
      const onAbort = () => leave();
      signal?.addEventListener('abort', onAbort, { once: true });
      return {
        chunks: subscribe<T>(flight, leave, signal, () => signal?.removeEventListener('abort', onAbort)),
        shared,
      };
    },

    size: () => flights.size,
  };
}

async function pump<T>(
  flight: StreamFlight,
  call: (signal: AbortSignal) => AsyncIterable<T>,
  remove: () => void,
): Promise<void> {
  try {
    for await (const chunk of call(flight.controller.signal)) {
      flight.chunks.push(chunk);
      notify(flight);
    }
    flight.state = 'done';
  } catch (error) {
    flight.state = 'failed';
    flight.error = error;
  } finally {
    remove();
    notify(flight);
  }
}

function notify(flight: StreamFlight): void {
  const waiting = [...flight.wake];
  flight.wake.clear();
  for (const wake of waiting) wake();
}

async function* subscribe<T>(
  flight: StreamFlight,
  leave: () => void,
  signal: AbortSignal | undefined,
  cleanup: () => void,
): AsyncGenerator<T> {
  let index = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      if (index < flight.chunks.length) {
        yield flight.chunks[index++] as T;
        continue;
      }
      if (flight.state === 'done') return;
      if (flight.state === 'failed') throw flight.error;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          flight.wake.delete(wake);
          reject(signal?.reason);
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        flight.wake.add(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  } finally {
    cleanup();
    leave();
  }
}

async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
