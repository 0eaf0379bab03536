import { pino, type Logger } from 'pino';
import type { PipewrightConfig } from './config/index.ts';
import type { Engine } from './engine/index.ts';
import type { Store } from './store/index.ts';
import type { Metrics, TelemetryRecorder } from './telemetry/index.ts';
import { createPipewright, type Pipewright } from './pipewright.ts';
import { createServer, resumeInterruptedRuns } from './server/index.ts';

export interface RunningGateway {
  /** `http://127.0.0.1:4000` */
  url: string;
  port: number;
  /** The engine, workflows, store and metrics behind the server (built by `createPipewright`). */
  pipewright: Pipewright;
  /** Shorthands for parts of `pipewright`. */
  engine: Engine;
  store: Store;
  metrics: Metrics;
  recorder: TelemetryRecorder;
  /** Graceful: stops accepting, lets in-flight requests finish (up to the grace period), then closes `pipewright`. */
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
 * The gateway: `createPipewright` (the one composition root) plus the HTTP server, listening.
 *
 * @example
 * const gateway = await startGateway({ config: loadConfigFile('pipewright.yaml') });
 * process.once('SIGTERM', () => void gateway.close());
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? pino({ level: 'info' });
  // The gateway's step types are the configured ones: workflow files calling others stop the start.
  const pipewright = await createPipewright({ config, logger, strictWorkflowReferences: true });
  const app = createServer({
    engine: pipewright,
    config,
    metrics: pipewright.metrics,
    logger,
    workflows: {
      runner: pipewright.runner,
      store: pipewright.store.workflows,
      definitions: pipewright.configuredWorkflows,
    },
  });
  const host = options.host ?? config.server.host;
  try {
    await app.listen({ host, port: options.port ?? config.server.port });
  } catch (error) {
    await pipewright.close().catch(() => undefined);
    throw error;
  }
  const address = app.server.address();
  const port =
    typeof address === 'object' && address !== null ? address.port : (options.port ?? config.server.port);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // Runs a crash or restart left running continue here (this process owns the store).
  await resumeInterruptedRuns({ runner: pipewright.runner, store: pipewright.store.workflows, logger });

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
      await pipewright.close();
    }
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    pipewright,
    engine: pipewright,
    store: pipewright.store,
    metrics: pipewright.metrics,
    recorder: pipewright.recorder,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
