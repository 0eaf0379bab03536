import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { createSystemClock } from './core/index.ts';
import type { PipewrightConfig } from './config/index.ts';
import { createEngine, type Engine } from './engine/index.ts';
import { createSharedRateLimitStore } from './resilience/index.ts';
import { createRedisCacheBackend } from './cache/index.ts';
import { createServer, loadConfiguredWorkflows, resumeInterruptedRuns } from './server/index.ts';
import { createSqliteStore, type Store } from './store/index.ts';
import {
  createBatchingRecorder,
  createMetrics,
  type Metrics,
  type TelemetryRecorder,
} from './telemetry/index.ts';
import { createWorkflowRunner, type WorkflowRunner } from './workflow/index.ts';

export interface RunningGateway {
  /** `http://127.0.0.1:4000` */
  url: string;
  port: number;
  engine: Engine;
  store: Store;
  metrics: Metrics;
  recorder: TelemetryRecorder;
  /** Runs the config's workflows and inline ones posted to `/v1/workflows/runs`. */
  workflows: WorkflowRunner;
  /** Graceful: stops accepting, lets in-flight requests finish (up to the grace period), flushes telemetry, closes the store. */
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  config: PipewrightConfig;
  logger?: Logger;
  /** Override config.server.host / port (port 0 picks a free one). */
  host?: string;
  port?: number;
}

/**
 * The composition root: config → store, telemetry, engine → HTTP server.
 *
 * @example
 * const gateway = await startGateway({ config: loadConfigFile('pipewright.yaml') });
 * process.once('SIGTERM', () => void gateway.close());
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? pino({ level: 'info' });
  // Workflow files are checked before anything opens: a bad one stops the start-up with its path.
  const definitions = loadConfiguredWorkflows(config);
  if (config.store.path !== ':memory:') mkdirSync(dirname(config.store.path), { recursive: true });
  const store = await createSqliteStore({ path: config.store.path });
  const metrics = createMetrics();
  const recorder = createBatchingRecorder({
    sink: store.callRecords,
    flushIntervalMs: config.telemetry.flushIntervalMs,
    maxBatch: config.telemetry.maxBatch,
    metrics,
    onError: (error, dropped) => logger.error({ err: error, dropped }, 'telemetry write failed'),
  });
  // With `redis` configured, rate limits hold across gateway processes (in-process while Redis is down).
  const sharedLimits =
    config.redis === undefined
      ? undefined
      : createSharedRateLimitStore({
          ...config.redis,
          clock: createSystemClock(),
          logger,
          registry: metrics.registry,
        });
  // `cache.backend: redis` shares exact-cache entries across gateway processes (misses while Redis is down).
  const sharedCache =
    config.cache.backend === 'redis' && config.redis !== undefined
      ? createRedisCacheBackend({
          ...config.redis,
          clock: createSystemClock(),
          logger,
          registry: metrics.registry,
        })
      : undefined;
  const engine = createEngine({
    config,
    recorder,
    metrics,
    ...(sharedLimits === undefined ? {} : { rateLimitStore: sharedLimits.store }),
    ...(sharedCache === undefined ? {} : { cacheBackend: sharedCache }),
    semanticCachePersistence: store.semanticCache,
    onCacheError: throttled((error, operation) =>
      logger.warn(
        { err: error, operation },
        `cache: ${operation} failed; calls go on without it (logged at most once a minute per operation)`,
      ),
    ),
    onBreakerTransition: (transition) =>
      logger[transition.to === 'open' ? 'warn' : 'info'](
        { breaker: transition },
        `circuit breaker ${transition.deployment}: ${transition.from} → ${transition.to} (${transition.reason})`,
      ),
  });
  const workflows = createWorkflowRunner({ engine, store: store.workflows, workflows: definitions });
  const app = createServer({
    engine,
    config,
    metrics,
    logger,
    workflows: { runner: workflows, store: store.workflows, definitions },
  });
  const host = options.host ?? config.server.host;
  await app.listen({ host, port: options.port ?? config.server.port });
  const address = app.server.address();
  const port =
    typeof address === 'object' && address !== null ? address.port : (options.port ?? config.server.port);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  // Runs a crash or restart left running continue here (this process owns the store).
  await resumeInterruptedRuns({ runner: workflows, store: store.workflows, logger });

  async function shutdown(): Promise<void> {
    // Fastify's close waits for in-flight requests (streams included); the grace period bounds it.
    const grace = setTimeout(() => app.server.closeAllConnections(), config.server.shutdownGraceMs);
    grace.unref();
    // Keep-alive sockets whose last request finishes during shutdown would otherwise hold the
    // server open until the keep-alive timeout; close each as soon as it goes idle.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    sweep.unref();
    try {
      await app.close();
    } finally {
      clearTimeout(grace);
      clearInterval(sweep);
      // Running workflow nodes stop as in a crash: their runs stay `running`, resumed at the next start.
      await workflows.close();
      await engine.close();
      await sharedLimits?.close();
      await sharedCache?.close();
      await recorder.close();
      await store.close();
    }
  }

  return {
    url,
    port,
    engine,
    store,
    metrics,
    recorder,
    workflows,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** One log line per operation per minute: an embedder outage must not write a line per call. */
function throttled(
  log: (error: unknown, operation: string) => void,
  intervalMs = 60_000,
): (error: unknown, operation: string) => void {
  const last = new Map<string, number>();
  return (error, operation) => {
    const now = Date.now();
    if (now - (last.get(operation) ?? -Infinity) < intervalMs) return;
    last.set(operation, now);
    log(error, operation);
  };
}
