import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LRUCache } from 'lru-cache';
import { createSystemClock, type Clock } from '../../core/index.ts';
import { deriveToken } from './create-random.ts';
import { handleSimRequest } from './handle-sim-request.ts';
import type { FaultState } from './resolve-fault-plan.ts';
import { parseSimConfig, type SimConfigInput } from './sim-config.ts';
import { createSimStats, type SimStats } from './sim-stats.ts';
import type { SimRuntime } from './sim-exchange.ts';

export interface SimServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Faults, latencies, limits and the model list (validated; errors name the field). Null = empty (a blank YAML file). */
  config?: SimConfigInput | null;
  /** Seed of every random draw; wins over `config.seed`. Default 0. */
  seed?: number;
  /** Time source: tests inject a fake one. */
  clock?: Clock;
  /** Receives the startup line (and nothing per request). */
  log?: (line: string) => void;
}

/** A running simulated provider. */
export interface SimServer {
  /** `http://127.0.0.1:PORT` — use `${url}/v1` as an OpenAI or Anthropic base URL, `url` for Gemini. */
  url: string;
  port: number;
  /** Stops accepting, ends held timeouts and open streams, and resolves once every socket is closed. */
  close(): Promise<void>;
  /** Request counters per endpoint, model and outcome. */
  stats(): SimStats;
  resetStats(): void;
  /** Replaces the config (validated); outage windows still count from server start. */
  setConfig(config: SimConfigInput | null): void;
}

/**
 * Starts the simulated provider: a real HTTP server speaking the OpenAI (and Azure OpenAI),
 * Anthropic and Gemini wire formats, with deterministic answers and scripted faults. Every
 * response carries `x-pipewright-simulated: true`.
 *
 * @example
 * const sim = await startSimServer({ config: { rules: [{ failureRate: 0.05 }] }, seed: 7 });
 * const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-sim' });
 * await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
 * await sim.close();
 */
export async function startSimServer(options: SimServerOptions = {}): Promise<SimServer> {
  const config = parseSimConfig(options.config ?? {});
  const clock = options.clock ?? createSystemClock();
  const closing = new AbortController();
  const faults: FaultState = {
    config,
    seed: options.seed ?? config.seed ?? 0,
    clock,
    startedAt: clock.monotonic(),
    sequences: new Map(),
    hits: new Map(),
    windows: new Map(),
  };
  const stats = createSimStats();
  const idPrefix = deriveToken(`${Date.now()}|${Math.random()}`, 6);
  let counter = 0;
  const runtime: SimRuntime = {
    faults,
    stats,
    clock,
    closing: closing.signal,
    waiting: new Set(),
    nextId: () => `${idPrefix}${(++counter).toString(36).padStart(6, '0')}`,
    completions: new LRUCache({ max: 1000 }),
  };
  const server = createServer({ keepAlive: true, noDelay: true, requestTimeout: 0 }, (request, response) => {
    void handleSimRequest(runtime, request, response);
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 31_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  options.log?.(
    `pipewright sim: SIMULATED provider (OpenAI, Azure OpenAI, Anthropic, Gemini wire formats) listening on ${url}, seed ${faults.seed}`,
  );

  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        for (const controller of runtime.waiting) controller.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setConfig(input) {
      const next = parseSimConfig(input);
      faults.config = next;
      faults.windows.clear();
      if (options.seed === undefined && next.seed !== undefined) faults.seed = next.seed;
    },
  };
}
