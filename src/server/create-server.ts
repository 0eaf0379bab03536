import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { createId, InvalidRequestError, PipewrightError, toPipewrightError } from '../core/index.ts';
import type { PipewrightConfig } from '../config/index.ts';
import type { CallMeta, Engine, EngineCallOptions } from '../engine/index.ts';
import { cacheControlHeader, parseCacheControl } from '../cache/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import { createAuthenticator, type Principal } from './authenticate.ts';
import { isServerFault, toErrorResponse } from './error-response.ts';
import { registerJsonBodyParser } from './parse-json-body.ts';
import { writeSseData } from './write-sse.ts';
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

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    startedAt: number;
    /** Filled as the request is handled, read when it is observed. */
    observed: { errorCode?: string; overheadMs?: number };
  }
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
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
  let shuttingDown = false;

  const app = Fastify({
    logger: false,
    bodyLimit: config.server.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (request) => {
      const header = request.headers['x-request-id'];
      return typeof header === 'string' && requestIdPattern.test(header) ? header : createId('req');
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  // The API speaks JSON only; anything else is a 415 rather than a confusing validation error.
  app.removeContentTypeParser('text/plain');
  registerJsonBodyParser(app);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('startedAt', 0);
  app.decorateRequest('observed', undefined as unknown as FastifyRequest['observed']);

  // Callback-style hooks: an async hook costs Fastify a promise and extra microtask turns per request.
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = performance.now();
    request.observed = {};
    void reply.header('x-request-id', request.id);
    const path = request.routeOptions.url ?? request.url;
    if (path === '/healthz' || path === '/readyz' || (path === '/metrics' && config.server.publicMetrics)) {
      done();
      return;
    }
    try {
      request.principal = authenticate(request.headers.authorization, request.headers['x-pipewright-tenant']);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    metrics?.observeHttpRequest({
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      durationMs: performance.now() - request.startedAt,
      errorCode: request.observed.errorCode,
      overheadMs: request.observed.overheadMs,
    });
    done();
  });

  app.setErrorHandler(async (error, request, reply) => {
    const response = toErrorResponse(error);
    if (isServerFault(response.status))
      logger?.error({ err: error, requestId: request.id }, 'request failed');
    request.observed.errorCode = response.body.error.code;
    return reply.status(response.status).headers(response.headers).send(response.body);
  });

  app.setNotFoundHandler(async (request) => {
    throw new PipewrightError({
      code: 'gateway.not_found',
      message: `No route for ${request.method} ${request.url}`,
    });
  });

  function callOptions(request: FastifyRequest, signal?: AbortSignal): EngineCallOptions {
    const options: EngineCallOptions = {
      requestId: request.id,
      tenantId: request.principal?.tenantId ?? config.defaultTenant,
    };
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
    if (cacheControl !== undefined) {
      // Validated here so that a bad directive is a 400 naming the header, not the library option.
      parseCacheControl(cacheControl, cacheControlHeader);
      options.cache = typeof cacheControl === 'string' ? cacheControl : cacheControl.join(',');
    }
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
    const body = request.body as { stream?: unknown } | null;
    const controller = abortOnClientClose(request, reply);
    if (body !== null && typeof body === 'object' && body.stream === true) {
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
      try {
        for await (const chunk of stream.chunks) {
          if (raw.destroyed) break;
          await writeSseData(raw, JSON.stringify(chunk));
        }
        if (!raw.destroyed) raw.write('data: [DONE]\n\n');
      } catch (error) {
        // A stream that fails after it started ends with an explicit error event, never [DONE].
        const failure = toPipewrightError(error);
        if (isServerFault(failure.status))
          logger?.warn({ err: failure, requestId: request.id }, 'stream failed after start');
        if (!raw.destroyed)
          await writeSseData(raw, JSON.stringify(toErrorResponse(failure).body)).catch(() => undefined);
      } finally {
        raw.end();
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
    const { response, meta } = await engine.embed(request.body, callOptions(request, controller.signal));
    setCallHeaders(reply, request, meta);
    return response;
  });

  app.post('/v1/images/generations', async (request, reply) => {
    const controller = abortOnClientClose(request, reply);
    const { response, meta } = await engine.images(request.body, callOptions(request, controller.signal));
    setCallHeaders(reply, request, meta);
    return response;
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: engine
      .modelGroups()
      .map((group) => ({ id: group.name, object: 'model', created: 0, owned_by: 'pipewright' })),
  }));

  // Circuit-breaker state per deployment (authenticated like every route but health and metrics).
  app.get('/admin/breakers', async () => ({ object: 'list', data: engine.resilience.snapshot() }));

  if (dependencies.workflows !== undefined) registerWorkflowRoutes(app, engine, dependencies.workflows);

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const ready = !shuttingDown && (dependencies.isReady?.() ?? true);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', shuttingDown });
  });

  app.get('/metrics', async (_request, reply) => {
    if (metrics === undefined)
      throw new PipewrightError({ code: 'gateway.not_found', message: 'metrics are disabled' });
    return reply.header('content-type', metrics.contentType).send(await metrics.render());
  });

  app.addHook('preClose', async () => {
    shuttingDown = true;
  });

  return app;
}
