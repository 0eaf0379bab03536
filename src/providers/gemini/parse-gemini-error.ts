import type { ProviderError, ProviderErrorKind } from '../../core/index.ts';
import type { Deployment, UpstreamFailure } from '../types.ts';
import {
  classifyByStatus,
  createUpstreamError,
  isContextLengthExceeded,
  previewText,
  tryParseJson,
} from '../shared/index.ts';
import { geminiErrorEnvelopeSchema } from './gemini-api-schemas.ts';
import { geminiProvider } from './gemini-wire.ts';

/** What a Google API error `{error:{code, message, status, details:[…]}}` says. */
export interface GeminiErrorInfo {
  code?: number;
  /** The canonical gRPC status name: `RESOURCE_EXHAUSTED`, `INVALID_ARGUMENT`… */
  status?: string;
  message?: string;
  /** `google.rpc.ErrorInfo` reason, e.g. `API_KEY_INVALID`. */
  reason?: string;
  /** `google.rpc.QuotaFailure` violations: their quota ids and metrics. */
  quotaIds: string[];
  /** `google.rpc.RetryInfo.retryDelay` in milliseconds. */
  retryDelayMs?: number;
}

const kindByStatus: Record<string, ProviderErrorKind> = {
  INVALID_ARGUMENT: 'invalid_request',
  FAILED_PRECONDITION: 'invalid_request',
  OUT_OF_RANGE: 'invalid_request',
  UNAUTHENTICATED: 'authentication',
  PERMISSION_DENIED: 'permission_denied',
  NOT_FOUND: 'not_found',
  RESOURCE_EXHAUSTED: 'rate_limited',
  INTERNAL: 'server_error',
  UNKNOWN: 'server_error',
  DATA_LOSS: 'server_error',
  UNAVAILABLE: 'overloaded',
  DEADLINE_EXCEEDED: 'timeout',
};

// Google answers a bad key with 400 INVALID_ARGUMENT ("API key not valid. Please pass a valid API key.").
const badKeyReasons = new Set(['API_KEY_INVALID', 'API_KEY_EXPIRED']);
const badKeyMessagePattern = /api key (not valid|expired|is invalid)/i;

/**
 * A 429 that waiting seconds will not cure. Gemini sends RESOURCE_EXHAUSTED both for
 * per-minute limits (retry after RetryInfo's delay) and for exhausted quotas. The message
 * ("check your plan and billing details") is the same for both, so it is not used; the
 * decision rests on what actually differs:
 * - a QuotaFailure violation of a per-day quota (`GenerateRequestsPerDayPerProjectPerModel…`,
 *   `…_per_day`): the next slot is hours away;
 * - `limit: 0` in the message: the model has no quota at all on this tier (e.g. a Pro model on
 *   the free tier), so no wait helps;
 * - depleted prepaid credits.
 * Per-minute violations alone stay `rate_limited`.
 */
const perDayQuotaPattern = /per ?day|_day\b|daily/i;
const exhaustedMessagePattern = /\blimit: 0\b|credits? (are |is |have been )?depleted|per ?day/i;

/**
 * Reads the Google API error envelope (also when wrapped in an array, as the streaming
 * endpoint can send it).
 *
 * @example
 * readGeminiErrorInfo({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded',
 *   details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '34.4s' }] } });
 * // { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded', quotaIds: [], retryDelayMs: 34400 }
 */
export function readGeminiErrorInfo(body: unknown): GeminiErrorInfo {
  const info: GeminiErrorInfo = { quotaIds: [] };
  const parsed = geminiErrorEnvelopeSchema.safeParse(Array.isArray(body) ? (body[0] as unknown) : body);
  if (!parsed.success) return info;
  const { error } = parsed.data;
  if (typeof error.code === 'number') info.code = error.code;
  if (typeof error.status === 'string') info.status = error.status;
  if (typeof error.message === 'string') info.message = error.message;
  for (const detail of error.details ?? []) {
    const type = detail['@type'];
    if (typeof type !== 'string') continue;
    if (type.endsWith('google.rpc.ErrorInfo') && typeof detail.reason === 'string')
      info.reason ??= detail.reason;
    if (type.endsWith('google.rpc.RetryInfo')) {
      const delay = parseDurationMs(detail.retryDelay);
      if (delay !== undefined) info.retryDelayMs = delay;
    }
    if (type.endsWith('google.rpc.QuotaFailure')) {
      for (const violation of detail.violations ?? []) {
        if (typeof violation.quotaId === 'string') info.quotaIds.push(violation.quotaId);
        if (typeof violation.quotaMetric === 'string') info.quotaIds.push(violation.quotaMetric);
      }
    }
  }
  // Without RetryInfo, the message may still say "Please retry in 20.04466179s."
  if (info.retryDelayMs === undefined && info.message !== undefined) {
    const hinted = /retry in (\d+(?:\.\d+)?)\s*s\b/i.exec(info.message)?.[1];
    if (hinted !== undefined) info.retryDelayMs = Math.round(Number(hinted) * 1000);
  }
  return info;
}

/**
 * The taxonomy kind for a Gemini error (see the note on quotas above).
 *
 * @example
 * classifyGeminiError({ status: 'INVALID_ARGUMENT', message: 'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).', quotaIds: [] }, 400);
 * // 'context_length_exceeded'
 */
export function classifyGeminiError(
  info: GeminiErrorInfo,
  httpStatus: number | undefined,
): ProviderErrorKind {
  const message = info.message ?? '';
  const status = info.status;
  if (status === 'RESOURCE_EXHAUSTED' || httpStatus === 429 || info.code === 429) {
    const exhausted =
      info.quotaIds.some((id) => perDayQuotaPattern.test(id)) || exhaustedMessagePattern.test(message);
    return exhausted ? 'quota_exhausted' : 'rate_limited';
  }
  if ((info.reason !== undefined && badKeyReasons.has(info.reason)) || badKeyMessagePattern.test(message))
    return 'authentication';
  if ((status === 'INVALID_ARGUMENT' || httpStatus === 400) && isContextLengthExceeded({ message }))
    return 'context_length_exceeded';
  const byStatus = status === undefined ? undefined : kindByStatus[status];
  if (byStatus !== undefined) return byStatus;
  const code = httpStatus !== undefined && httpStatus >= 400 ? httpStatus : info.code;
  return code === undefined ? 'server_error' : classifyByStatus(code);
}

/**
 * Maps a failed Gemini response to a ProviderError, with the retry delay from
 * `google.rpc.RetryInfo` (Gemini sends no retry-after header), the ErrorInfo reason or
 * gRPC status as the provider code, and the status as sent (`RESOURCE_EXHAUSTED`) as the
 * upstream code: Google's canonical error code.
 *
 * @example
 * parseGeminiError({ status: 503, headers: {}, body: '{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}' }, deployment);
 * // ProviderError kind 'overloaded', providerCode 'UNAVAILABLE'
 */
export function parseGeminiError(
  failure: UpstreamFailure,
  deployment: Deployment,
  now: () => number = Date.now,
): ProviderError {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(failure.headers)) headers[name.toLowerCase()] = value;
  const info = readGeminiErrorInfo(tryParseJson(failure.body));
  return createUpstreamError({
    provider: geminiProvider,
    deployment: deployment.id,
    status: failure.status,
    headers,
    kind: classifyGeminiError(info, failure.status),
    message: info.message ?? (failure.body.trim() === '' ? undefined : previewText(failure.body)),
    providerCode: info.reason ?? info.status,
    upstreamType: info.status,
    now: now(),
    bodyRetryAfterMs: info.retryDelayMs,
  });
}

/** A protobuf Duration in JSON form (`"34.4s"`, `"1s"`) in milliseconds. */
function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const seconds = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value)?.[1];
  return seconds === undefined ? undefined : Math.round(Number(seconds) * 1000);
}

/**
 * The ProviderError for an `{error:{…}}` object found inside a 200 body or stream event
 * (classified by its gRPC status and code, as there is no HTTP status to go by).
 *
 * @example
 * throw createGeminiEmbeddedError({ error: { code: 503, status: 'UNAVAILABLE', message: 'overloaded' } }, 'gemini-eu');
 */
export function createGeminiEmbeddedError(
  body: unknown,
  deploymentId: string,
  inBand: 'stream' | 'body' = 'stream',
): ProviderError {
  const info = readGeminiErrorInfo(body);
  return createUpstreamError({
    provider: geminiProvider,
    deployment: deploymentId,
    kind: classifyGeminiError(info, undefined),
    message: info.message,
    providerCode: info.reason ?? info.status,
    upstreamType: info.status,
    bodyRetryAfterMs: info.retryDelayMs,
    inBand,
  });
}
