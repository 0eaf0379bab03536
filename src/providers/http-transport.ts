import { Agent, type Dispatcher } from 'undici';
import { ProviderError, type ProviderErrorKind } from '../core/index.ts';
import type { HttpRequestSpec } from './types.ts';

/** Tuning for the upstream connection pool. Every timeout is in milliseconds. */
export interface HttpTransportOptions {
  /** TCP + TLS connect timeout. Default 10 s. */
  connectTimeoutMs?: number;
  /** Time from sending to the response status line. Default 10 min: long non-streamed completions are normal. */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. Default 5 min (reasoning models pause before their first token). */
  bodyTimeoutMs?: number;
  /** How long an idle keep-alive socket is kept. Default 30 s. */
  keepAliveTimeoutMs?: number;
  /** Sockets per origin; unlimited by default. */
  connectionsPerOrigin?: number;
  /** A dispatcher to use instead of the built-in Agent (a proxy agent, a mock); the transport will not close it. */
  dispatcher?: Dispatcher;
}

/** The body of an upstream response: iterate for streams, `text()` for whole bodies. */
export interface TransportBody extends AsyncIterable<Uint8Array> {
  text(): Promise<string>;
  /** Releases the socket; a body not read to its end closes the connection. */
  destroy(error?: Error): unknown;
}

export interface TransportResponse {
  status: number;
  /** Lowercase header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: TransportBody;
}

/** Who the call is for, so network errors name the provider and deployment. */
export interface TransportSendOptions {
  signal?: AbortSignal | undefined;
  provider?: string;
  deployment?: string;
}

/** Sends wire requests. Network failures reject with a ProviderError (`connection`, `timeout`, `aborted`). */
export interface HttpTransport {
  send(spec: HttpRequestSpec, options?: TransportSendOptions): Promise<TransportResponse>;
  close(): Promise<void>;
}

/**
 * The undici transport: one shared Agent (a keep-alive pool per origin, no pipelining) and
 * `undici.request`, which is markedly cheaper per call than `fetch`.
 *
 * @example
 * const transport = createHttpTransport({ connectTimeoutMs: 5_000 });
 * const response = await transport.send({ method: 'POST', url: 'http://127.0.0.1:8080/v1/chat/completions', headers: {}, body: {} });
 * console.log(response.status, await response.body.text());
 * await transport.close();
 */
export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    new Agent({
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
      headersTimeout: options.headersTimeoutMs ?? 600_000,
      bodyTimeout: options.bodyTimeoutMs ?? 300_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      pipelining: 1,
      ...(options.connectionsPerOrigin === undefined ? {} : { connections: options.connectionsPerOrigin }),
    });

  // `undici.request(url)` parses the URL on every call; deployments call a handful of fixed URLs,
  // so their origin and path are parsed once (bounded, in case URLs carry per-call query strings).
  const targets = new Map<string, { origin: string; path: string }>();
  function targetOf(url: string): { origin: string; path: string } {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (targets.size >= maxCachedTargets) targets.clear();
      targets.set(url, target);
    }
    return target;
  }

  return {
    async send(spec, sendOptions = {}) {
      let headers = spec.headers;
      let body: string | undefined;
      if (spec.body !== undefined) {
        body = JSON.stringify(spec.body);
        if (headers['content-type'] === undefined)
          headers = { ...headers, 'content-type': 'application/json' };
      }
      try {
        const { origin, path } = targetOf(spec.url);
        const response = await dispatcher.request({
          origin,
          path,
          method: spec.method,
          headers,
          body: body ?? null,
          signal: sendOptions.signal ?? null,
        });
        return {
          status: response.statusCode,
          headers: flattenHeaders(response.headers),
          body: response.body,
        };
      } catch (error) {
        throw mapTransportError(error, { ...sendOptions, phase: 'request' });
      }
    },
    async close() {
      if (!ownsDispatcher) return;
      // close() waits for in-flight requests; destroy() afterwards frees anything still hanging.
      await Promise.race([dispatcher.close(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      await dispatcher.destroy();
    },
  };
}

const maxCachedTargets = 1_000;

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return out;
}

export interface MapTransportErrorContext extends TransportSendOptions {
  /** `request`: before a status line; `body`: while reading a whole body; `stream`: mid-stream. */
  phase: 'request' | 'body' | 'stream';
}

const timeoutCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * Maps a network-level failure to the provider taxonomy: an aborted signal → `aborted` (or the
 * signal's own ProviderError / `timeout` for `AbortSignal.timeout`), undici timeouts →
 * `timeout`, refused/reset/closed sockets → `connection`, or `stream_cut` once a stream had started.
 *
 * @example
 * try { for await (const chunk of body) {} } catch (error) { throw mapTransportError(error, { provider: 'openai', phase: 'stream' }); }
 */
export function mapTransportError(error: unknown, context: MapTransportErrorContext): ProviderError {
  const provider = context.provider ?? 'unknown';
  const deployment = context.deployment;
  if (ProviderError.isProviderError(error))
    return deployment === undefined ? error : error.withDeployment(deployment);
  const signal = context.signal;
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    if (ProviderError.isProviderError(reason))
      return deployment === undefined ? reason : reason.withDeployment(deployment);
    const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
    return createNetworkError(
      isTimeout ? 'timeout' : 'aborted',
      `${provider} call ${isTimeout ? 'timed out (signal)' : 'aborted by the caller'}`,
      provider,
      deployment,
      error,
    );
  }
  const code = readErrorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code !== undefined && timeoutCodes.has(code)) {
    return createNetworkError(
      'timeout',
      `${provider} ${describeTimeout(code)}: ${detail}`,
      provider,
      deployment,
      error,
    );
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return createNetworkError('aborted', `${provider} call aborted`, provider, deployment, error);
  }
  // Everything else (ECONNREFUSED, ECONNRESET, ENOTFOUND, UND_ERR_SOCKET "other side closed", UND_ERR_CLOSED…)
  // is a connection failure, or a cut stream once chunks had started flowing.
  const kind: ProviderErrorKind = context.phase === 'stream' ? 'stream_cut' : 'connection';
  const what =
    context.phase === 'stream'
      ? 'stream broke off'
      : context.phase === 'body'
        ? 'connection lost while reading the response'
        : 'connection failed';
  const codeText = code === undefined ? '' : ` (${code})`;
  return createNetworkError(kind, `${provider} ${what}${codeText}: ${detail}`, provider, deployment, error);
}

function describeTimeout(code: string): string {
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timed out waiting for response headers';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out waiting for the next body chunk';
    default:
      return 'timed out';
  }
}

function readErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Some socket errors arrive wrapped (AggregateError from happy-eyeballs, `cause` chains).
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== error) return readErrorCode(cause);
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0) return readErrorCode(errors[0]);
  return undefined;
}

function createNetworkError(
  kind: ProviderErrorKind,
  message: string,
  provider: string,
  deployment: string | undefined,
  cause: unknown,
): ProviderError {
  return new ProviderError({
    kind,
    message,
    provider,
    cause,
    ...(deployment === undefined ? {} : { deployment }),
  });
}
