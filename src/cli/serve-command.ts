import { loadConfigFile } from '../config/index.ts';
import { startGateway } from '../main.ts';
import { pino } from 'pino';

/** `pipewright serve`: runs the gateway until SIGTERM/SIGINT, then shuts down gracefully. */
export async function runServe(options: { config: string; host?: string; port?: number }): Promise<void> {
  const logger = pino({ level: process.env.PIPEWRIGHT_LOG_LEVEL ?? 'info' });
  const config = loadConfigFile(options.config, process.env);
  const gateway = await startGateway({
    config,
    logger,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  logger.info(
    { url: gateway.url, modelGroups: gateway.engine.modelGroups().map((group) => group.name) },
    'pipewright gateway listening',
  );
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    gateway.close().then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
