import { anthropicRateLimitHeaders } from './render-anthropic-error.ts';
import { renderStreamErrorFrame } from './render-error.ts';
import { openAIRateLimitHeaders } from './render-openai-error.ts';
import type { FaultKind } from './parse-fault-header.ts';
import type { FaultPlan } from './resolve-fault-plan.ts';
import {
  baseHeaders,
  errorContext,
  pause,
  sendError,
  sendJson,
  waitUntilClosed,
  type SimExchange,
} from './sim-exchange.ts';
import { kindForStatus, type SimError } from './sim-error.ts';
import { formatFrame, type SseFrame } from './sse-frame.ts';

/** A successful answer, built only if no fault replaces it. */
export type SimOutput = { kind: 'json'; body: () => string } | { kind: 'stream'; frames: () => SseFrame[] };

/** Window used in context-length messages when a fault forces one and no rule sets it. */
const defaultContextWindow = 8192;

/**
 * Answers a request according to its fault plan: an error response after the planned latency,
 * a held or reset connection, or the successful output, written with the planned delays and
 * any stream fault (cut, malformed event, error event, reset mid-way). Counts the outcome.
 */
export async function respondWithPlan(
  exchange: SimExchange,
  plan: FaultPlan,
  output: SimOutput,
  options: { promptTokens: number; outcome?: string },
): Promise<void> {
  const fault = plan.fault;
  const error = fault === undefined ? undefined : errorFor(fault, plan, options.promptTokens);
  if (error !== undefined) {
    if (!(await pause(exchange, plan.latencyMs || plan.ttftMs))) return;
    sendError(exchange, error);
    return;
  }
  const stats = exchange.runtime.stats;
  if (fault?.kind === 'timeout') {
    stats.record(exchange.route.operation, exchange.model, 'timeout');
    await waitUntilClosed(exchange);
    return;
  }
  if (fault?.kind === 'reset' && fault.afterEvents === undefined) {
    stats.record(exchange.route.operation, exchange.model, 'connection_reset');
    if (await pause(exchange, plan.latencyMs || plan.ttftMs)) exchange.request.socket.destroy();
    return;
  }
  stats.record(exchange.route.operation, exchange.model, options.outcome ?? transportOutcome(fault) ?? 'ok');
  const headers = rateLimitHeaders(exchange, plan);
  if (output.kind === 'json') {
    if (!(await pause(exchange, plan.latencyMs || plan.ttftMs))) return;
    writeJson(exchange, output.body(), fault, headers);
  } else {
    await writeStream(exchange, output.frames(), plan, headers);
  }
}

function errorFor(fault: FaultKind, plan: FaultPlan, promptTokens: number): SimError | undefined {
  switch (fault.kind) {
    case 'status': {
      const error: SimError = { kind: kindForStatus(fault.status), status: fault.status };
      if (fault.retryAfterMs !== undefined) error.retryAfterMs = fault.retryAfterMs;
      if (fault.status === 429 && plan.rateLimit !== undefined) error.rateLimit = plan.rateLimit;
      return error;
    }
    case 'quota':
      return { kind: 'quota_exhausted', status: 429 };
    case 'context-length': {
      const limit = plan.contextWindow ?? defaultContextWindow;
      return {
        kind: 'context_length_exceeded',
        status: 400,
        tokens: { prompt: Math.max(promptTokens, limit + 1), limit },
      };
    }
    case 'content-filter':
      return { kind: 'content_filtered', status: 400 };
    case 'timeout':
    case 'reset':
    case 'cut-stream':
    case 'malformed-chunk':
    case 'stream-error':
      return undefined;
  }
}

const transportOutcomes: Partial<Record<FaultKind['kind'], string>> = {
  'cut-stream': 'stream_cut',
  'malformed-chunk': 'malformed_chunk',
  'stream-error': 'stream_error',
  reset: 'connection_reset',
};

function transportOutcome(fault: FaultKind | undefined): string | undefined {
  return fault === undefined ? undefined : transportOutcomes[fault.kind];
}

function rateLimitHeaders(exchange: SimExchange, plan: FaultPlan): Record<string, string> {
  if (plan.rateLimit === undefined) return {};
  switch (exchange.route.format) {
    case 'openai':
    case 'azure':
      return openAIRateLimitHeaders(plan.rateLimit);
    case 'anthropic':
      return anthropicRateLimitHeaders(plan.rateLimit, exchange.runtime.clock.now());
    case 'gemini':
      return {};
  }
}

/** A non-stream body, damaged the way the stream faults would damage it. */
function writeJson(
  exchange: SimExchange,
  body: string,
  fault: FaultKind | undefined,
  headers: Record<string, string>,
): void {
  const response = exchange.response;
  const half = body.slice(0, Math.ceil(body.length / 2));
  switch (fault?.kind) {
    case 'cut-stream':
      response.writeHead(200, { ...baseHeaders(exchange), ...headers, 'content-type': 'application/json' });
      response.end(half);
      return;
    case 'reset':
      response.writeHead(200, { ...baseHeaders(exchange), ...headers, 'content-type': 'application/json' });
      resetAfter(exchange, half);
      return;
    case 'malformed-chunk':
      sendJson(exchange, 200, body.slice(0, -1), headers);
      return;
    case 'stream-error':
      sendJson(
        exchange,
        200,
        renderStreamErrorFrame(exchange.route.format, errorContext(exchange)).data,
        headers,
      );
      return;
    case undefined:
    case 'status':
    case 'quota':
    case 'context-length':
    case 'content-filter':
    case 'timeout':
      sendJson(exchange, 200, body, headers);
  }
}

async function writeStream(
  exchange: SimExchange,
  all: SseFrame[],
  plan: FaultPlan,
  headers: Record<string, string>,
): Promise<void> {
  const response = exchange.response;
  const crlf = exchange.route.format === 'gemini';
  const fault = plan.fault;
  // The terminator is always withheld by a cutting fault, however large N is.
  const cutAt = (after: number): number => Math.min(after, Math.max(0, all.length - 1));
  let frames = all;
  let ending: 'complete' | 'error' | 'reset' = 'complete';
  if (fault?.kind === 'cut-stream') frames = all.slice(0, cutAt(fault.afterEvents));
  if (fault?.kind === 'stream-error') {
    frames = all.slice(0, cutAt(fault.afterEvents));
    ending = 'error';
  }
  if (fault?.kind === 'reset' && fault.afterEvents !== undefined) {
    frames = all.slice(0, cutAt(fault.afterEvents));
    ending = 'reset';
  }
  if (fault?.kind === 'malformed-chunk') {
    const index = Math.max(0, Math.min(fault.event, all.length - 1 || 1) - 1);
    frames = all.slice();
    const target = frames[index];
    if (target !== undefined)
      frames[index] = { ...target, data: target.data.slice(0, Math.ceil(target.data.length / 2)) };
  }
  response.writeHead(200, {
    ...baseHeaders(exchange),
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  const contentCount = frames.reduce((count, frame) => count + (frame.content ? 1 : 0), 0);
  const spread =
    plan.chunkDelayMs ??
    (contentCount > 1 ? Math.max(0, plan.latencyMs - plan.ttftMs) / (contentCount - 1) : 0);
  let pending = '';
  if (plan.ttftMs <= 0 && spread <= 0) {
    for (const frame of frames) pending += formatFrame(frame, crlf);
  } else {
    let seenContent = false;
    let started = false;
    for (const frame of frames) {
      if (frame.content) {
        const wait = seenContent ? spread : plan.ttftMs;
        if (wait > 0) {
          // The headers (and any preamble events) go out before the wait, as providers do.
          if (pending !== '') response.write(pending);
          else if (!started) response.flushHeaders();
          started = true;
          pending = '';
          if (!(await pause(exchange, wait))) return;
        }
        seenContent = true;
      }
      pending += formatFrame(frame, crlf);
    }
  }
  switch (ending) {
    case 'complete':
      response.end(pending);
      return;
    case 'error':
      response.end(
        pending + formatFrame(renderStreamErrorFrame(exchange.route.format, errorContext(exchange)), crlf),
      );
      return;
    case 'reset':
      resetAfter(exchange, pending);
      return;
  }
}

/** Sends what is pending, then destroys the connection (an RST mid-response). */
function resetAfter(exchange: SimExchange, pending: string): void {
  const destroy = (): void => void exchange.request.socket.destroy();
  if (pending === '') {
    exchange.response.flushHeaders();
    setImmediate(destroy);
  } else {
    exchange.response.write(pending, destroy);
  }
}
