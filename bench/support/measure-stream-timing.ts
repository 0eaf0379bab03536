import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { percentile } from './statistics.ts';

export interface StreamTimingOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Sequential requests measured (after `warmup` unmeasured ones). */
  count: number;
  warmup?: number;
  /** False for a body that is not a real answer. */
  verifyBody: (body: string) => boolean;
}

export interface StreamTimingResult {
  /** Request sent → first body chunk, ms. */
  firstByteP50Ms: number;
  firstByteP99Ms: number;
  /** Request sent → last body chunk, ms. */
  totalP50Ms: number;
  totalP99Ms: number;
  /** Measured requests that were real answers. */
  ok: number;
  /** Non-2xx answers, transport errors and bad bodies. */
  failures: number;
  firstFailure?: string;
}

/**
 * Sends streaming requests one after another on one keep-alive connection and times the first
 * body chunk and the end of each answer: the latency a user sees at concurrency 1.
 *
 * @example
 * const timing = await measureStreamTiming({ url, headers, body, count: 200, verifyBody: (text) => text.includes('[DONE]') });
 */
export async function measureStreamTiming(options: StreamTimingOptions): Promise<StreamTimingResult> {
  const agent = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
  const firstBytes: number[] = [];
  const totals: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  try {
    const warmup = options.warmup ?? 20;
    for (let index = 0; index < warmup + options.count; index++) {
      const measured = index >= warmup;
      const started = performance.now();
      let firstByteAt: number | undefined;
      let text = '';
      let failure: string | undefined;
      try {
        const response = await request(options.url, {
          method: 'POST',
          headers: options.headers,
          body: options.body,
          dispatcher: agent,
        });
        for await (const chunk of response.body) {
          firstByteAt ??= performance.now();
          text += (chunk as Buffer).toString('utf8');
        }
        if (response.statusCode < 200 || response.statusCode >= 300)
          failure = `status ${response.statusCode}: ${text.slice(0, 300)}`;
        else if (!options.verifyBody(text)) failure = `bad body: ${text.slice(-300)}`;
      } catch (error) {
        failure = `error: ${(error as Error).message}`;
      }
      const finished = performance.now();
      if (!measured) continue;
      if (failure !== undefined || firstByteAt === undefined) {
        failures += 1;
        firstFailure ??= failure ?? 'empty body';
        continue;
      }
      firstBytes.push(firstByteAt - started);
      totals.push(finished - started);
    }
  } finally {
    await agent.close();
  }
  return {
    firstByteP50Ms: percentile(firstBytes, 50),
    firstByteP99Ms: percentile(firstBytes, 99),
    totalP50Ms: percentile(totals, 50),
    totalP99Ms: percentile(totals, 99),
    ok: firstBytes.length,
    failures,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}
