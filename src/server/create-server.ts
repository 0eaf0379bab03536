import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { InvalidRequestError, PipewrightError, toPipewrightError } from '../core/index.ts';
import type { PipewrightConfig } from '../config/index.ts';
import type { CallMeta, Engine, EngineCallOptions } from '../engine/index.ts';
import { cacheControlHeader, parseCacheControl } from '../cache/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import { createAuthenticator, tenantIdOf } from './authenticate.ts';
import { createGatewayApp, type GatewayLifecycle } from './create-gateway-app.ts';
import { isServerFault, toErrorResponse } from './error-response.ts';
import { registerEngineStateRoutes, registerOperationalRoutes } from './operational-routes.ts';
import { jsonObjectBody } from './parse-json-body.ts';
import { createSseWriter } from './write-sse.ts';
import { registerWorkflowRoutes, type WorkflowRoutesOptions } from './workflow-routes.ts';

export interface ServerDependencies {
  engine: Engine;
  config: PipewrightConfig;
  metrics?: Metrics;
  logger?: Logger;
  /** Extra readiness checks (the store is open, …). */
  isReady?: () => boolean;
  /** Serves the workflow API (`/v1/workflows/…`) when given. */
  workflows?: WorkflowRoutesOptions;
}

const timeoutHeader = 'x-pipewright-timeout-ms';
/** A client may shorten or lengthen its own deadline, up to one hour. */
const maxTimeoutMs = 3_600_000;

/**
 * The OpenAI-compatible HTTP gateway. Routes translate HTTP to engine calls; every error becomes
 * an OpenAI error envelope in one place (`toErrorResponse`).
 *
 * @example
 * const app = createServer({ engine, config });
 * await app.listen({ host: '127.0.0.1', port: 4000 });
 */
export function createServer(dependencies: ServerDependencies): FastifyInstance {
  const { engine, config, metrics, logger } = dependencies;
  const masterKey = config.server.masterKey;
  if (masterKey === undefined) {
    throw new PipewrightError({
      code: 'config.invalid',
      message: 'server.masterKey is not set: set PIPEWRIGHT_MASTER_KEY (at least 16 characters)',
      param: 'server.masterKey',
    });
  }
  const authenticate = createAuthenticator({ masterKey, defaultTenantId: config.defaultTenant });
  const { server } = config;
  const lifecycle: GatewayLifecycle = { shuttingDown: false };
  const app = createGatewayApp({ server, authenticate, lifecycle, metrics, logger });

  function callOptions(request: FastifyRequest, signal?: AbortSignal): EngineCallOptions {
    const options: EngineCallOptions = { requestId: request.id, tenantId: tenantIdOf(request) };
    if (signal !== undefined) options.signal = signal;
    const timeout = request.headers[timeoutHeader];
    if (timeout !== undefined) {
      const value =
        typeof timeout === 'string' && /^\d{1,7}$/.test(timeout.trim()) ? Number(timeout) : Number.NaN;
      if (!(value >= 1 && value <= maxTimeoutMs)) {
        throw new InvalidRequestError({
          message: `${timeoutHeader} must be a whole number of milliseconds between 1 and ${maxTimeoutMs}`,
          param: timeoutHeader,
        });
      }
      options.deadlineMs = value;
    }
    const traceparent = request.headers.traceparent;
    if (typeof traceparent === 'string') {
      const traceId = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent)?.[1];
      if (traceId !== undefined) options.traceId = traceId;
    }
    const cacheControl = request.headers[cacheControlHeader];
    // Parsed once, here, so that a bad directive is a 400 naming the header, not the library option.
    if (cacheControl !== undefined) options.cache = parseCacheControl(cacheControl, cacheControlHeader);
    return options;
  }

  function setCallHeaders(reply: FastifyReply, request: FastifyRequest, meta: CallMeta): void {
    const overheadMs = Math.max(0, performance.now() - request.startedAt - meta.upstreamMs);
    request.observed.overheadMs = overheadMs;
    void reply.headers({
      'x-pipewright-overhead-ms': overheadMs.toFixed(3),
      'x-pipewright-deployment': meta.deployment,
      'x-pipewright-cache': meta.cacheStatus,
      'x-pipewright-trace-id': meta.traceId,
      ...(meta.simulated ? { 'x-pipewright-simulated': 'true' } : {}),
      ...(meta.semantic === undefined
        ? {}
        : {
            'x-pipewright-cache-similarity': meta.semantic.similarity.toFixed(4),
            'x-pipewright-cache-confidence': meta.semantic.confidence.toFixed(3),
            ...(meta.semantic.degraded ? { 'x-pipewright-degraded': 'true' } : {}),
          }),
    });
  }

  /** Aborts the upstream call when the client goes away before we answered. */
  function abortOnClientClose(request: FastifyRequest, reply: FastifyReply): AbortController {
    const controller = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) controller.abort(new Error('client closed the connection'));
    });
    void request;
    return controller;
  }

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = jsonObjectBody(request) as { stream?: unknown };
    const controller = abortOnClientClose(request, reply);
    if (body.stream === true) {
      const stream = await engine.chatStream(body, callOptions(request, controller.signal));
      setCallHeaders(reply, request, stream.meta);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      const sse = createSseWriter(raw);
      let last: string | undefined;
      try {
        for await (const chunk of stream.chunks) {
          if (raw.destroyed) break;
          if (!sse.write(JSON.stringify(chunk))) await sse.drained();
        }
        last = '[DONE]';
      } catch (error) {
        // A stream that fails after it started ends with an explicit error event, never [DONE].
        const failure = toPipewrightError(error);
        if (isServerFault(failure.status))
          logger?.warn({ err: failure, requestId: request.id }, 'stream failed after start');
        last = JSON.stringify(toErrorResponse(failure).body);
      } finally {
        sse.end(raw.destroyed ? undefined : last);
        // A hijacked reply skips Fastify's onResponse hook, so it is observed here.
        metrics?.observeHttpRequest({
          route: '/v1/chat/completions',
          status: 200,
          durationMs: performance.now() - request.startedAt,
          overheadMs: request.observed.overheadMs,
        });
      }
      return reply;
    }
    const { response, meta } = await engine.chat(body, callOptions(request, controller.signal));
    setCallHeaders(reply, request, meta);
    return response;
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const controller = abortOnClientClose(request, reply);
    const { response, meta } = await engine.embed(
      jsonObjectBody(request),
      callOptions(request, controller.signal),
    );
    setCallHeaders(reply, request, meta);
    return response;
  });

  app.post('/v1/images/generations', async (request, reply) => {
    const controller = abortOnClientClose(request, reply);
    const { response, meta } = await engine.images(
      jsonObjectBody(request),
      callOptions(request, controller.signal),
    );
    setCallHeaders(reply, request, meta);
    return response;
  });

  registerEngineStateRoutes(app, engine);

  if (dependencies.workflows !== undefined)
    registerWorkflowRoutes(app, engine, {
      ...dependencies.workflows,
      bodyLimitBytes:
        server.workflowBodyLimitBytes === 0
          ? server.bodyLimitBytes
          : Math.min(server.workflowBodyLimitBytes, server.bodyLimitBytes),
    });

  registerOperationalRoutes(app, { lifecycle, metrics, isReady: dependencies.isReady });

  return app;
}
