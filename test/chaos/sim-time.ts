// Fake time for chaos tests against the real sim: the engine and the sim share one fake clock, so
// deadlines, backoffs, retry-afters, breaker periods, the sim's delays, outage windows and rate
// windows are all in fake time, while every call is still a real HTTP request to the sim.
//
// Time moves only when nothing but a timer can make progress: `run` waits (in real time, as
// long as it takes) while an upstream call is under way, and jumps to the next timer only when
// every call in flight is waiting on fake time. A slow or loaded machine makes a test slower,
// never different.
import type { ChatStreamResult, Deployment, ProviderClient } from '../../src/providers/index.ts';
import { createProviderClient } from '../../src/providers/index.ts';
import { createFakeClock } from '../support/fake-clock.ts';

export interface SimTime {
  clock: ReturnType<typeof createFakeClock>;
  /** A real provider client (undici) whose calls `run` waits for. Close it after the test. */
  client: ProviderClient;
  /**
   * Deployments that answer only after fake time passes (a first-token delay, a hang): their
   * calls in flight do not hold time still, or their timeouts could never fire.
   */
  waitsOnTime(...deploymentIds: string[]): void;
  /** Settles `promise`, moving fake time only when the calls in flight wait on it. */
  run<T>(promise: Promise<T>): Promise<T>;
  /** Upstream calls in flight (headers or a chunk awaited), not counting deployments that wait on time. */
  inFlight(): number;
  /** Upstream calls started through `client` so far (whole answers and streams). */
  calls(): number;
}

export function createSimTime(options: { epochMs?: number } = {}): SimTime {
  const clock = createFakeClock(options);
  const inner = createProviderClient({ clock });
  const timeBound = new Set<string>();
  let inFlight = 0;
  let calls = 0;

  function start<T>(deployment: Deployment, promise: Promise<T>): Promise<T> {
    calls += 1;
    return track(deployment, promise);
  }

  function track<T>(deployment: Deployment, promise: Promise<T>): Promise<T> {
    if (timeBound.has(deployment.id)) return promise;
    inFlight += 1;
    return promise.finally(() => {
      inFlight -= 1;
    });
  }

  function trackStream(deployment: Deployment, started: ChatStreamResult): ChatStreamResult {
    const chunks: ChatStreamResult['chunks'] = {
      [Symbol.asyncIterator]() {
        const iterator = started.chunks[Symbol.asyncIterator]();
        return {
          next: () => track(deployment, iterator.next()),
          // Not tracked: a release of the socket that never settles must not hold time still.
          return: (value?: unknown) =>
            iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
        };
      },
    };
    return { meta: started.meta, chunks };
  }

  const client: ProviderClient = {
    chat: (request, deployment, callOptions) =>
      start(deployment, inner.chat(request, deployment, callOptions)),
    chatStream: async (request, deployment, callOptions) =>
      trackStream(deployment, await start(deployment, inner.chatStream(request, deployment, callOptions))),
    embed: (request, deployment, callOptions) =>
      start(deployment, inner.embed(request, deployment, callOptions)),
    images: (request, deployment, callOptions) =>
      start(deployment, inner.images(request, deployment, callOptions)),
    close: () => inner.close(),
  };

  return {
    clock,
    client,
    waitsOnTime: (...deploymentIds) => {
      for (const id of deploymentIds) timeBound.add(id);
    },
    run: (promise) => clock.run(promise, { busy: () => inFlight > 0 }),
    inFlight: () => inFlight,
    calls: () => calls,
  };
}
