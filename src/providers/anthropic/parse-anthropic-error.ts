import type { ProviderError, ProviderErrorKind } from '../../core/index.ts';
import type { Deployment, UpstreamFailure } from '../types.ts';
import { classifyUpstreamError, createUpstreamError, previewText, tryParseJson } from '../shared/index.ts';
import { anthropicErrorEnvelopeSchema } from './anthropic-api-schemas.ts';
import { anthropicProvider } from './anthropic-wire.ts';

/** What an Anthropic error envelope `{type:'error', error:{type, message, details}, request_id}` says. */
export interface AnthropicErrorInfo {
  type?: string;
  message?: string;
  /** `error.details.error_code`, e.g. `enforced_spend_limit_reached`. */
  errorCode?: string;
  requestId?: string;
}

// Spend caps Anthropic reports with a message only (as a 400 invalid_request_error or a 429
// rate_limit_error): waiting minutes does not help, unlike a real rate limit.
const spendLimitMessagePattern =
  /spend limit|specified (workspace )?api usage limits|reached your api usage limits/i;

/**
 * Reads the Anthropic error envelope from a parsed body (or returns an empty info): an HTTP
 * error body, a 200 body of type `error`, or the data of an `error` stream event.
 *
 * @example
 * readAnthropicErrorInfo({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_1' });
 * // { type: 'overloaded_error', message: 'Overloaded', requestId: 'req_1' }
 */
export function readAnthropicErrorInfo(body: unknown): AnthropicErrorInfo {
  const parsed = anthropicErrorEnvelopeSchema.safeParse(body);
  if (!parsed.success) return {};
  const { error, request_id: requestId } = parsed.data;
  const info: AnthropicErrorInfo = {};
  if (typeof error.type === 'string') info.type = error.type;
  if (typeof error.message === 'string') info.message = error.message;
  const errorCode = error.details?.error_code;
  if (typeof errorCode === 'string') info.errorCode = errorCode;
  if (typeof requestId === 'string') info.requestId = requestId;
  return info;
}

/**
 * The taxonomy kind for an Anthropic error: the shared classification (quota codes first, then
 * context length by message, overload, status, then error type for errors inside a 200
 * stream), plus Anthropic's spend-cap messages and its `timeout_error` type.
 *
 * @example
 * classifyAnthropicError({ type: 'invalid_request_error', message: 'prompt is too long: 215000 tokens > 200000 maximum' }, 400);
 * // 'context_length_exceeded'
 */
export function classifyAnthropicError(
  info: AnthropicErrorInfo,
  status: number | undefined,
): ProviderErrorKind {
  if (info.message !== undefined && spendLimitMessagePattern.test(info.message)) return 'quota_exhausted';
  if (info.type === 'timeout_error' && (status === undefined || status < 400)) return 'timeout';
  return classifyUpstreamError({ status, codes: [info.type, info.errorCode], message: info.message });
}

/** Where an Anthropic error was found, besides its envelope. */
export interface AnthropicErrorContext {
  deployment: string;
  /** The HTTP status of an error response; absent for an error inside a 200 body or stream. */
  status?: number;
  /** The response headers (lowercase names): retry-after, rate-limit resets, request id. */
  headers?: Readonly<Record<string, string>>;
  /** Now in ms since the epoch (rate-limit reset timestamps, HTTP-date retry-after). */
  now?: number;
  /** What to show when the envelope has no message (the start of a body that was not JSON). */
  fallbackMessage?: string;
  /** For an error inside a 200 answer: an `error` stream event (default) or a whole body of type `error`. */
  inBand?: 'stream' | 'body';
}

/**
 * The one place an Anthropic error becomes a ProviderError, wherever it was found: an HTTP error
 * response, a 200 body of type `error`, or an `error` event inside a stream. The kind comes from
 * {@link classifyAnthropicError}; `error.type` is kept as `upstreamType` (and as `providerCode`
 * unless `details.error_code` is more precise, which is also the `upstreamCode`); for a rate
 * limit without `retry-after`, the wait comes from the `anthropic-ratelimit-*-reset` headers; the
 * request id from the `request-id` header, else the body's `request_id`.
 *
 * @example
 * createAnthropicError({ type: 'overloaded_error', message: 'Overloaded' }, { deployment: 'claude-eu', status: 529 });
 * // ProviderError kind 'overloaded', upstreamStatus 529, upstreamType 'overloaded_error'
 */
export function createAnthropicError(
  info: AnthropicErrorInfo,
  context: AnthropicErrorContext,
): ProviderError {
  const headers = context.headers ?? {};
  const kind = classifyAnthropicError(info, context.status);
  const now = context.now ?? Date.now();
  return createUpstreamError({
    provider: anthropicProvider,
    deployment: context.deployment,
    status: context.status,
    headers:
      info.requestId === undefined || headers['request-id'] !== undefined
        ? headers
        : // The body repeats the request id; it is the only copy when a proxy dropped the header.
          { ...headers, 'request-id': info.requestId },
    kind,
    message: info.message ?? context.fallbackMessage,
    providerCode: info.errorCode ?? info.type,
    upstreamCode: info.errorCode,
    upstreamType: info.type,
    now,
    bodyRetryAfterMs: kind === 'rate_limited' ? parseAnthropicRateLimitResetMs(headers, now) : undefined,
    ...(context.inBand === undefined ? {} : { inBand: context.inBand }),
  });
}

/**
 * Maps a failed Anthropic response to a ProviderError (see {@link createAnthropicError}).
 *
 * @example
 * parseAnthropicError({ status: 529, headers: {}, body: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' }, deployment);
 * // ProviderError kind 'overloaded', upstreamStatus 529
 */
export function parseAnthropicError(
  failure: UpstreamFailure,
  deployment: Deployment,
  now: () => number = Date.now,
): ProviderError {
  const headers = lowerCaseKeys(failure.headers);
  const info = readAnthropicErrorInfo(tryParseJson(failure.body));
  return createAnthropicError(info, {
    deployment: deployment.id,
    status: failure.status,
    headers,
    now: now(),
    ...(failure.body.trim() === '' ? {} : { fallbackMessage: previewText(failure.body) }),
  });
}

const resetHeaderPattern = /^anthropic-ratelimit-(.+)-reset$/;

/**
 * How long until Anthropic's rate limits let a request through, from the
 * `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset` RFC 3339 timestamps.
 * When some buckets report `-remaining: 0`, the wait is until the last of those resets (all of
 * them must refill); otherwise it is the earliest reset of any bucket.
 *
 * @returns Milliseconds (>= 0), or undefined when no usable reset header is present.
 *
 * @example
 * parseAnthropicRateLimitResetMs({ 'anthropic-ratelimit-tokens-reset': '2025-01-01T00:00:30Z' }, Date.parse('2025-01-01T00:00:00Z'));
 * // 30000
 */
export function parseAnthropicRateLimitResetMs(
  headers: Readonly<Record<string, string | undefined>>,
  now: number,
): number | undefined {
  const all: number[] = [];
  const exhausted: number[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const bucket = resetHeaderPattern.exec(name)?.[1];
    if (bucket === undefined || value === undefined) continue;
    const at = Date.parse(value);
    // Date.parse takes many shapes; only a timestamp with a date and a time counts.
    if (!Number.isFinite(at) || !/^\d{4}-\d{2}-\d{2}T/.test(value.trim())) continue;
    const wait = Math.max(0, at - now);
    all.push(wait);
    if (headers[`anthropic-ratelimit-${bucket}-remaining`]?.trim() === '0') exhausted.push(wait);
  }
  if (exhausted.length > 0) return Math.max(...exhausted);
  if (all.length > 0) return Math.min(...all);
  return undefined;
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
