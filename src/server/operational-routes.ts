import type { FastifyInstance } from 'fastify';
import { PipewrightError } from '../core/index.ts';
import type { Engine } from '../engine/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import type { GatewayLifecycle } from './create-gateway-app.ts';

/**
 * Health (`/healthz`), readiness (`/readyz`: not ready while draining or when a check fails) and
 * Prometheus metrics (`/metrics`), and the hook that marks the gateway as draining when it closes.
 *
 * @example
 * registerOperationalRoutes(app, { lifecycle, metrics, isReady: () => store.isOpen() });
 */
export function registerOperationalRoutes(
  app: FastifyInstance,
  options: {
    lifecycle: GatewayLifecycle;
    metrics?: Metrics | undefined;
    isReady?: (() => boolean) | undefined;
  },
): void {
  const { lifecycle, metrics, isReady } = options;
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const { shuttingDown } = lifecycle;
    const ready = !shuttingDown && (isReady?.() ?? true);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', shuttingDown });
  });

  app.get('/metrics', async (_request, reply) => {
    if (metrics === undefined)
      throw new PipewrightError({ code: 'gateway.not_found', message: 'metrics are disabled' });
    return reply.header('content-type', metrics.contentType).send(await metrics.render());
  });

  app.addHook('preClose', async () => {
    lifecycle.shuttingDown = true;
  });
}

/**
 * What the engine serves and how its deployments are doing: `GET /v1/models` (the model groups,
 * OpenAI's list shape) and `GET /admin/breakers` (circuit-breaker state per deployment).
 *
 * @example
 * registerEngineStateRoutes(app, engine);
 */
export function registerEngineStateRoutes(
  app: FastifyInstance,
  engine: Pick<Engine, 'modelGroups' | 'resilience'>,
): void {
  app.get('/v1/models', async () => ({
    object: 'list',
    data: engine
      .modelGroups()
      .map((group) => ({ id: group.name, object: 'model', created: 0, owned_by: 'pipewright' })),
  }));

  // Circuit-breaker state per deployment (authenticated like every route but health and metrics).
  app.get('/admin/breakers', async () => ({ object: 'list', data: engine.resilience.snapshot() }));
}
