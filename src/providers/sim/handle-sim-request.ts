import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequestError } from '../../core/index.ts';
import { authenticateRequest } from './authenticate-request.ts';
import { handleChat } from './handle-chat.ts';
import { handleEmbeddings } from './handle-embeddings.ts';
import { handleImages } from './handle-images.ts';
import { handleModels } from './handle-models.ts';
import { FaultSyntaxError, parseFaultHeader } from './parse-fault-header.ts';
import { guessFormat, routeSimRequest } from './route-sim-request.ts';
import { sendError, type SimExchange, type SimRuntime } from './sim-exchange.ts';

/** Requests larger than this get a 413, as providers' own limits would. */
export const maxBodyBytes = 32 * 1024 * 1024;

/**
 * Answers one HTTP request: route, read the body, check the fault header and the credentials,
 * then hand over to the endpoint. Bad input of any kind is a 4xx in the provider's format,
 * never a crash; an unexpected failure is a 500.
 */
export async function handleSimRequest(
  runtime: SimRuntime,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  runtime.stats.started();
  const url = request.url ?? '/';
  const method = request.method ?? 'GET';
  const route = routeSimRequest(method, url, request.headers['anthropic-version'] !== undefined) ?? {
    format: guessFormat(url),
    endpoint: 'chat',
    operation: 'unknown',
    query: new URLSearchParams(),
  };
  const exchange: SimExchange = {
    runtime,
    request,
    response,
    route,
    requestId: `req_sim${runtime.nextId()}`,
    fault: undefined,
    rawBody: '',
    model: route.model ?? '',
    signal: undefined,
  };
  try {
    const body = method === 'POST' ? await readBody(request) : '';
    if (body === undefined) {
      sendError(exchange, { kind: 'request_too_large', status: 413 });
      return;
    }
    exchange.rawBody = body;
    if (route.operation === 'unknown') {
      const path = url.split('?')[0] ?? url;
      sendError(exchange, {
        kind: 'not_found',
        status: 404,
        message: `[simulated] Unknown request URL: ${method} ${path}. The sim serves the OpenAI, Azure OpenAI, Anthropic and Gemini APIs.`,
      });
      return;
    }
    const faultHeader = request.headers['x-sim-fault'];
    if (typeof faultHeader === 'string') {
      try {
        exchange.fault = { spec: parseFaultHeader(faultHeader), raw: faultHeader };
      } catch (error) {
        if (!(error instanceof FaultSyntaxError)) throw error;
        sendError(exchange, {
          kind: 'invalid_request',
          status: 400,
          message: error.message,
          param: 'x-sim-fault',
        });
        return;
      }
    }
    const authError = authenticateRequest(route, request.headers);
    if (authError !== undefined) {
      sendError(exchange, authError);
      return;
    }
    await dispatch(exchange, body);
  } catch (error) {
    if (error instanceof InvalidRequestError) {
      const invalid: Parameters<typeof sendError>[1] = {
        kind: 'invalid_request',
        status: 400,
        message: error.message,
      };
      if (error.param !== undefined) invalid.param = error.param;
      sendError(exchange, invalid);
    } else if (!response.headersSent) {
      sendError(exchange, {
        kind: 'server_error',
        status: 500,
        message: `[simulated] internal error: ${(error as Error).message}`,
      });
    } else {
      response.destroy();
    }
  } finally {
    runtime.stats.finished();
  }
}

async function dispatch(exchange: SimExchange, rawBody: string): Promise<void> {
  const endpoint = exchange.route.endpoint;
  if (endpoint === 'models') {
    await handleModels(exchange);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch (error) {
    throw new InvalidRequestError({
      message: `We could not parse the JSON body of your request: ${(error as Error).message}`,
    });
  }
  switch (endpoint) {
    case 'chat':
      await handleChat(exchange, body);
      return;
    case 'embeddings':
      await handleEmbeddings(exchange, body);
      return;
    case 'images':
      await handleImages(exchange, body);
      return;
  }
}

/** The body as text, or undefined when it exceeds the size limit. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks).toString('utf8');
}
