import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { PipewrightConfig } from '../config/index.ts';
import { createId, PipewrightError } from '../core/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import { tenantHeader, type createAuthenticator, type Principal } from './authenticate.ts';
import { answerClientError } from './answer-client-error.ts';
import { isServerFault, toErrorResponse } from './error-response.ts';
import { registerJsonBodyParser } from './parse-json-body.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    startedAt: number;
    /** Filled as the request is handled, read when it is observed. */
    observed: { errorCode?: string; overheadMs?: number };
  }
}

/** Whether the gateway is draining: set when it starts closing, read by every request and by readiness. */
export interface GatewayLifecycle {
  shuttingDown: boolean;
}

export interface GatewayAppOptions {
  server: PipewrightConfig['server'];
  authenticate: ReturnType<typeof createAuthenticator>;
  lifecycle: GatewayLifecycle;
  metrics?: Metrics | undefined;
  logger?: Logger | undefined;
}

type SendError = (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
/** Longer than any id the routes accept (run ids: 128), so a long one is our 404, not the router's. */
const maxPathParameterLength = 256;

function isPublicPath(path: string, publicMetrics: boolean): boolean {
  return path === '/healthz' || path === '/readyz' || (path === '/metrics' && publicMetrics);
}

/**
 * What every gateway route shares, before any route is added: the Fastify instance and its limits,
 * the JSON body parser, the request id, the one authentication hook, the request observation, and
 * every error answered as an OpenAI error envelope (unknown routes too).
 *
 * @example
 * const app = createGatewayApp({ server: config.server, authenticate, lifecycle: { shuttingDown: false } });
 */
export function createGatewayApp(options: GatewayAppOptions): FastifyInstance {
  const { server } = options;
  const sendError = createErrorSender(options.logger);
  const app = createFastify(options, sendError);

  // The API speaks JSON only; anything else is a 415 rather than a confusing validation error.
  app.removeContentTypeParser('text/plain');
  registerJsonBodyParser(app, { maxDepth: server.maxJsonDepth });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('startedAt', 0);
  app.decorateRequest('observed', undefined as unknown as FastifyRequest['observed']);

  registerRequestHooks(app, options);

  app.setErrorHandler(async (error, request, reply) => sendError(error, request, reply));

  app.setNotFoundHandler(async (request) => {
    throw new PipewrightError({
      code: 'gateway.not_found',
      message: `No route for ${request.method} ${request.url}`,
    });
  });
  return app;
}

function createFastify(options: GatewayAppOptions, sendError: SendError): FastifyInstance {
  const { server, authenticate } = options;
  return Fastify({
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
}

/**
 * Every error answer, whatever raised it: our envelope, and `connection: close` when the caller
 * was refused (401) or the answer goes out before the body was read (the gateway never reads a
 * body it refused; the socket closes once the answer is sent).
 */
function createErrorSender(logger: Logger | undefined): SendError {
  return (error, request, reply) => {
    const response = toErrorResponse(error);
    if (isServerFault(response.status))
      logger?.error({ err: error, requestId: request.id }, 'request failed');
    request.observed.errorCode = response.body.error.pipewright_code;
    void reply.status(response.status).headers(response.headers);
    if (response.status === 401 || !request.raw.complete) void reply.header('connection', 'close');
    return reply.send(response.body);
  };
}

function registerRequestHooks(app: FastifyInstance, options: GatewayAppOptions): void {
  const { server, authenticate, lifecycle, metrics } = options;
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
    if (lifecycle.shuttingDown) {
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
}
