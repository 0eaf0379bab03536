import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { createId, InvalidRequestError, PipewrightError, toPipewrightError } from '../core/index.ts';
import type { PipewrightConfig } from '../config/index.ts';
import type { CallMeta, Engine, EngineCallOptions } from '../engine/index.ts';
import { cacheControlHeader, parseCacheControl } from '../cache/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import { createAuthenticator, tenantHeader, tenantIdOf, type Principal } from './authenticate.ts';
import { isServerFault, toErrorResponse } from './error-response.ts';
import { answerClientError } from './answer-client-error.ts';
import { jsonObjectBody, registerJsonBodyParser } from './parse-json-body.ts';
import { waitForDrain, writeSseData, writeSseEvent } from './write-sse.ts';
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
/** Longer than any id the routes accept (run ids: 128), so a long one is our 404, not the router's. */
const maxPathParameterLength = 256;

function isPublicPath(path: string, publicMetrics: boolean): boolean {
  return path === '/healthz' || path === '/readyz' || (path === '/metrics' && publicMetrics);
}

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
  let shuttingDown = false;

  const app = Fastify({
    logger: false,
    bodyLimit: server.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (request) => {
      const header = request.headers['x-request-id'];
      return typeof header === 'string' && requestIdPattern.test(header) ? header : createId('req');
    },
    // While draining, the onRequest hook answers 503 gateway.shutting_down in our envelope.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // A client has this long to send a whole request (headers within headersTimeoutMs), then 408.
    requestTimeout: server.requestTimeoutMs,
    http: {
      requestTimeout: server.requestTimeoutMs,
      headersTimeout: server.headersTimeoutMs,
      // Node checks the two timeouts on this interval (30 s by default, longer than the timeouts).
      connectionsCheckingInterval: 1_000,
    },
    routerOptions: { maxParamLength: maxPathParameterLength },
    // The router's own errors (a malformed or too long URL) come before any hook: check the key first.
    frameworkErrors: (error, request, reply) => {
      request.startedAt = performance.now();
      request.observed = {};
      void reply.header('x-request-id', request.id);
      let failure: unknown = error;
      try {
        authenticate(request.headers.authorization, request.headers[tenantHeader]);
      } catch (refused) {
        failure = refused;
      }
      void sendError(failure, request, reply);
    },
    clientErrorHandler: (error, socket) => answerClientError(error, socket),
  });

  // The API speaks JSON only; anything else is a 415 rather than a confusing validation error.
  app.removeContentTypeParser('text/plain');
  registerJsonBodyParser(app, { maxDepth: server.maxJsonDepth });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('startedAt', 0);
  app.decorateRequest('observed', undefined as unknown as FastifyRequest['observed']);

  // The one authentication hook: every route but health, readiness and public metrics resolves the
  // caller's tenant here, once, before anything reads the body; routes take it with tenantIdOf().
  // Callback-style hooks: an async hook costs Fastify a promise and extra microtask turns per request.
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = performance.now();
    request.observed = {};
    void reply.header('x-request-id', request.id);
    if (isPublicPath(request.routeOptions.url ?? request.url, server.publicMetrics)) {
      done();
      return;
    }
    if (shuttingDown) {
      done(
        new PipewrightError({
          code: 'gateway.shutting_down',
          message: 'the gateway is shutting down: retry on another instance',
        }),
      );
      return;
    }
    try {
      request.principal = authenticate(request.headers.authorization, request.headers[tenantHeader]);
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

  /**
   * Every error answer, whatever raised it: our envelope, and `connection: close` when the caller
   * was refused (401) or the answer goes out before the body was read (the gateway never reads a
   * body it refused; the socket closes once the answer is sent).
   */
  function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const response = toErrorResponse(error);
    if (isServerFault(response.status))
      logger?.error({ err: error, requestId: request.id }, 'request failed');
    request.observed.errorCode = response.body.error.pipewright_code;
    void reply.status(response.status).headers(response.headers);
    if (response.status === 401 || !request.raw.complete) void reply.header('connection', 'close');
    return reply.send(response.body);
  }

  app.setErrorHandler(async (error, request, reply) => sendError(error, request, reply));

  app.setNotFoundHandler(async (request) => {
    throw new PipewrightError({
      code: 'gateway.not_found',
      message: `No route for ${request.method} ${request.url}`,
    });
  });

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
      try {
        for await (const chunk of stream.chunks) {
          if (raw.destroyed) break;
          // A promise only when the client reads slowly, not one per chunk.
          if (!writeSseEvent(raw, JSON.stringify(chunk))) await waitForDrain(raw);
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

  app.get('/v1/models', async () => ({
    object: 'list',
    data: engine
      .modelGroups()
      .map((group) => ({ id: group.name, object: 'model', created: 0, owned_by: 'pipewright' })),
  }));

  // Circuit-breaker state per deployment (authenticated like every route but health and metrics).
  app.get('/admin/breakers', async () => ({ object: 'list', data: engine.resilience.snapshot() }));

  if (dependencies.workflows !== undefined)
    registerWorkflowRoutes(app, engine, {
      ...dependencies.workflows,
      bodyLimitBytes:
        server.workflowBodyLimitBytes === 0
          ? server.bodyLimitBytes
          : Math.min(server.workflowBodyLimitBytes, server.bodyLimitBytes),
    });

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
