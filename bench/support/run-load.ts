import autocannon from 'autocannon';
import { percentileOfSorted } from './statistics.ts';

export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Concurrent connections, each with one request in flight. */
  connections: number;
  durationS: number;
  /** False for a body that is not a real answer (counted in `badBodies`). */
  verifyBody?: (body: string) => boolean;
  /** Seconds before a request counts as timed out; default 10. */
  timeoutS?: number;
}

export interface LoadResult {
  /** Real answers (2xx with a body that passed `verifyBody`) per second of the run. */
  rps: number;
  /** Every answer received (any status). */
  responses: number;
  ok: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  /** 2xx answers whose body failed `verifyBody`. */
  badBodies: number;
  statusCodes: Record<string, number>;
  /** Latency of 2xx answers (first byte sent to last byte received), ms, from exact per-request times. */
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  durationS: number;
}

/**
 * Runs autocannon against one URL for a fixed time and returns exact latency percentiles
 * (autocannon's own histogram rounds to whole milliseconds, too coarse for a gateway's overhead).
 *
 * @example
 * const result = await runLoad({ url: 'http://127.0.0.1:4010/v1/chat/completions', method: 'POST', body, connections: 16, durationS: 5 });
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
    connections: options.connections,
    pipelining: 1,
    duration: options.durationS,
    timeout: options.timeoutS ?? 10,
    ...(options.verifyBody === undefined ? {} : { verifyBody: options.verifyBody }),
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
  });
  const result = await instance;
  const sorted = Float64Array.from(latencies).sort();
  const ok = result['2xx'];
  const durationS = result.duration > 0 ? result.duration : options.durationS;
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats)) statusCodes[code] = stats.count;
  return {
    rps: (ok - result.mismatches) / durationS,
    responses: result['1xx'] + ok + result['3xx'] + result['4xx'] + result['5xx'],
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    badBodies: result.mismatches,
    statusCodes,
    p50Ms: percentileOfSorted(sorted, 50),
    p99Ms: percentileOfSorted(sorted, 99),
    meanMs: sorted.length === 0 ? Number.NaN : sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    durationS,
  };
}
