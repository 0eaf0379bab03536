import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LRUCache } from 'lru-cache';
import type { Clock } from '../../core/index.ts';
import type { FaultSpec } from './parse-fault-header.ts';
import { renderError } from './render-error.ts';
import type { FaultState } from './resolve-fault-plan.ts';
import type { SimRoute } from './route-sim-request.ts';
import { hashString } from './create-random.ts';
import { outcomeForError, type SimError } from './sim-error.ts';
import type { SimCompletion } from './sim-prompt.ts';
import type { SimStatsRecorder } from './sim-stats.ts';

/** The state of one running sim server, shared by its request handlers. */
export interface SimRuntime {
  faults: FaultState;
  stats: SimStatsRecorder;
  clock: Clock;
  /** Aborted when the server starts closing. */
  closing: AbortSignal;
  /** The controllers of requests that are waiting (latency, timeout): aborted on close. */
  waiting: Set<AbortController>;
  /** A short id unique within this server. */
  nextId(): string;
  /**
   * Answers already generated, by prompt and seed: answers are deterministic, and benchmarks
   * repeat the same request, so the sim need not tokenise the same text again.
   */
  completions: LRUCache<string, SimCompletion>;
}

/** One request being answered. */
export interface SimExchange {
  runtime: SimRuntime;
  request: IncomingMessage;
  response: ServerResponse;
  route: SimRoute;
  requestId: string;
  /** The parsed `x-sim-fault` header, with its raw text. */
  fault: { spec: FaultSpec; raw: string } | undefined;
  /** The request body as text ('' for GET). */
  rawBody: string;
  /** The model named by the request, once known ('' before). */
  model: string;
  signal: AbortSignal | undefined;
}

/** Headers on every response: the simulation label and the provider's request-id header. */
export function baseHeaders(exchange: SimExchange): Record<string, string> {
  const headers: Record<string, string> = { 'x-pipewright-simulated': 'true' };
  if (exchange.route.format === 'anthropic') headers['request-id'] = exchange.requestId;
  else if (exchange.route.format !== 'gemini') headers['x-request-id'] = exchange.requestId;
  return headers;
}

/** Aborted when the client goes away or the server closes (created only when something waits). */
export function exchangeSignal(exchange: SimExchange): AbortSignal {
  if (exchange.signal !== undefined) return exchange.signal;
  const controller = new AbortController();
  const waiting = exchange.runtime.waiting;
  waiting.add(controller);
  exchange.response.once('close', () => {
    waiting.delete(controller);
    controller.abort();
  });
  if (exchange.runtime.closing.aborted) controller.abort();
  exchange.signal = controller.signal;
  return controller.signal;
}

/** Waits `ms` on the runtime's clock; false when the exchange was aborted meanwhile. */
export async function pause(exchange: SimExchange, ms: number): Promise<boolean> {
  if (ms <= 0) return !exchange.runtime.closing.aborted;
  const signal = exchangeSignal(exchange);
  if (signal.aborted) return false;
  try {
    await exchange.runtime.clock.sleep(ms, signal);
    return !signal.aborted;
  } catch {
    return false;
  }
}

/** Resolves when the client gives up or the server closes. */
export async function waitUntilClosed(exchange: SimExchange): Promise<void> {
  const signal = exchangeSignal(exchange);
  if (signal.aborted) return;
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export function sendJson(
  exchange: SimExchange,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  const response = exchange.response;
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    ...baseHeaders(exchange),
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Renders an error in the request's format, sends it and counts it. */
export function sendError(exchange: SimExchange, error: SimError): void {
  exchange.runtime.stats.record(exchange.route.operation, exchange.model, outcomeForError(error));
  const rendered = renderError(exchange.route.format, error, errorContext(exchange));
  sendJson(exchange, rendered.status, rendered.body, rendered.headers);
}

export function errorContext(exchange: SimExchange): { model: string; requestId: string; now: number } {
  return { model: exchange.model, requestId: exchange.requestId, now: exchange.runtime.clock.now() };
}

/**
 * The header fault as the fault planner wants it: with the identity of this exact request, so
 * `times=N` counts retries of the same call (same header, endpoint, model and body).
 */
export function headerFacts(exchange: SimExchange): { header?: { spec: FaultSpec; requestKey: string } } {
  const fault = exchange.fault;
  if (fault === undefined) return {};
  const requestKey =
    fault.spec.times === undefined
      ? ''
      : `${fault.raw}|${exchange.route.operation}|${exchange.model}|${hashString(exchange.rawBody)}`;
  return { header: { spec: fault.spec, requestKey } };
}
