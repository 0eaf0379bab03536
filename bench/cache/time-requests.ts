import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

export interface TimedTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The body of the i-th request (a fixed body repeats; a changing one never hits the cache). */
  body: (index: number) => string;
  /** Checks one answer: its body and the `x-pipewright-cache` header; returns a problem or undefined. */
  check: (body: string, cacheStatus: string | undefined) => string | undefined;
}

export interface TimedBatch {
  latenciesMs: number[];
  failures: number;
  firstFailure?: string;
}

/**
 * Sends `count` requests one after another on one keep-alive connection and times each from the
 * first byte sent to the last byte received: the latency one caller sees, without queueing.
 *
 * @example
 * const batch = await timeRequests(target, 2_000, 0);
 */
export async function timeRequests(target: TimedTarget, count: number, offset: number): Promise<TimedBatch> {
  const agent = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
  const latenciesMs: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  try {
    for (let index = 0; index < count; index++) {
      const body = target.body(offset + index);
      const started = performance.now();
      let problem: string | undefined;
      try {
        const response = await request(target.url, {
          method: 'POST',
          headers: target.headers,
          body,
          dispatcher: agent,
        });
        const text = await response.body.text();
        const header = response.headers['x-pipewright-cache'];
        if (response.statusCode !== 200) problem = `status ${response.statusCode}: ${text.slice(0, 200)}`;
        else problem = target.check(text, typeof header === 'string' ? header : undefined);
      } catch (error) {
        problem = `error: ${(error as Error).message}`;
      }
      const elapsed = performance.now() - started;
      if (problem === undefined) latenciesMs.push(elapsed);
      else {
        failures += 1;
        firstFailure ??= problem;
      }
    }
  } finally {
    await agent.close();
  }
  return firstFailure === undefined ? { latenciesMs, failures } : { latenciesMs, failures, firstFailure };
}
