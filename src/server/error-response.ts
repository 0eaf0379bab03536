import { errorCodes, PipewrightError, ProviderError, toPipewrightError } from '../core/index.ts';

/**
 * The OpenAI error envelope, which every OpenAI SDK turns into its own error classes. `code` and
 * `param` are the upstream provider's own when it gave them (`context_length_exceeded`,
 * `messages`), as OpenAI sends them; `pipewright_code` is always Pipewright's stable code
 * (docs/errors.md).
 */
export interface ErrorEnvelope {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string;
    pipewright_code: string;
    details?: Record<string, unknown>;
  };
}

export interface ErrorResponse {
  status: number;
  body: ErrorEnvelope;
  headers: Record<string, string>;
}

/** Tells the official OpenAI and Anthropic SDKs whether to retry (they obey it over their own rules). */
export const shouldRetryHeader = 'x-should-retry';
/** Pipewright's stable error code, beside the envelope's `code` (which may be the upstream's). */
export const errorCodeHeader = 'x-pipewright-error-code';

/** Fastify's own errors (body parsing, limits, URLs) → our codes, and the request part at fault. */
const fastifyErrors: Record<string, { code: PipewrightError['code']; param?: string; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'request.invalid_json', param: 'body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'request.invalid_json',
    param: 'body',
    message: 'body is empty: send a JSON object',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'request.too_large', param: 'body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'request.unsupported_media_type',
    param: 'content-type',
    message: 'content-type: the API accepts application/json only',
  },
  FST_ERR_CTP_INVALID_TYPE: { code: 'request.unsupported_media_type', param: 'content-type' },
  FST_ERR_CTP_EMPTY_TYPE: { code: 'request.unsupported_media_type', param: 'content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'request.invalid', param: 'content-length' },
  FST_ERR_BAD_URL: { code: 'request.invalid', param: 'url' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'request.invalid', param: 'url' },
  FST_ERR_NOT_FOUND: { code: 'gateway.not_found' },
};

/** Attempts that never reached an upstream (the deployment was skipped). */
const skippedAttemptCodes: ReadonlySet<unknown> = new Set([
  'gateway.circuit_open',
  'gateway.overloaded',
  'gateway.rate_limited',
]);

/**
 * The one place errors become HTTP responses: status from the error code, the OpenAI envelope,
 * `retry-after` when the provider (or our limiter) said how long to wait, `x-should-retry`
 * (see {@link shouldClientRetry}) and `x-pipewright-error-code`.
 *
 * @example
 * const { status, body, headers } = toErrorResponse(error);
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  const failure = normalize(error);
  const headers: Record<string, string> = {
    [shouldRetryHeader]: String(shouldClientRetry(failure)),
    [errorCodeHeader]: failure.code,
  };
  // Gateway errors (bulkhead, open breakers) carry their hint in details.retryAfterMs.
  const detailHint = failure.details?.['retryAfterMs'];
  const retryAfterMs = ProviderError.isProviderError(failure)
    ? failure.retryAfterMs
    : typeof detailHint === 'number'
      ? detailHint
      : undefined;
  if (retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.ceil(retryAfterMs));
  }
  const upstream = upstreamFieldsOf(failure);
  const body: ErrorEnvelope = {
    error: {
      message: failure.message,
      type: failure.type,
      param: upstream.param === undefined ? (failure.param ?? null) : upstream.param,
      code: upstream.code ?? failure.code,
      pipewright_code: failure.code,
      ...(failure.details === undefined ? {} : { details: failure.details }),
    },
  };
  return { status: failure.status, body, headers };
}

/**
 * Whether a client may usefully send the same request again (the `x-should-retry` header):
 * `false` when the error is not retryable (quota, context length, invalid request, authentication,
 * permission, conflicts, bugs), when the gateway already retried or fell back (more than one
 * upstream attempt in `details.attempts`) or when the deadline passed while an upstream was
 * being tried, so that an SDK's own retries do not multiply the upstream calls; `true` otherwise
 * (a rate limit or overload the gateway did not wait out, an open circuit, a draining gateway).
 *
 * @example
 * shouldClientRetry(quotaError); // false
 */
export function shouldClientRetry(error: unknown): boolean {
  const failure = normalize(error);
  if (!failure.isRetryable) return false;
  const attempts = upstreamAttempts(failure);
  // The whole deadline went to an upstream: another try would spend another one the same way.
  if (failure.code === 'gateway.deadline_exceeded') return attempts === 0;
  return attempts <= 1;
}

function upstreamAttempts(failure: PipewrightError): number {
  const attempts = failure.details?.['attempts'];
  if (!Array.isArray(attempts)) return 0;
  let count = 0;
  for (const attempt of attempts as unknown[]) {
    const code = (attempt as { errorCode?: unknown } | null)?.errorCode;
    if (!skippedAttemptCodes.has(code)) count += 1;
  }
  return count;
}

/** The upstream's own `code` and `param`, when the provider adapter kept them. */
function upstreamFieldsOf(failure: PipewrightError): { code?: string; param?: string | null } {
  if (!ProviderError.isProviderError(failure)) return {};
  const fields: { code?: string; param?: string | null } = {};
  if (failure.upstreamCode !== undefined && failure.upstreamCode !== '') fields.code = failure.upstreamCode;
  if (failure.upstreamParam !== undefined) fields.param = failure.upstreamParam;
  return fields;
}

function normalize(error: unknown): PipewrightError {
  if (PipewrightError.isInstance(error)) return error;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    const mapped = fastifyErrors[error.code];
    if (mapped !== undefined) {
      const message =
        mapped.message ??
        (mapped.code === 'request.invalid_json'
          ? `body is not valid JSON: ${error.message}`
          : mapped.param === undefined
            ? error.message
            : `${mapped.param}: ${error.message}`);
      const status =
        'statusCode' in error && typeof error.statusCode === 'number' && error.statusCode >= 400
          ? error.statusCode
          : undefined;
      return new PipewrightError({
        code: mapped.code,
        message,
        cause: error,
        // Keep Fastify's more precise status (414 for a too long URL part).
        ...(status === undefined || status === errorCodes[mapped.code].status ? {} : { status }),
        ...(mapped.param === undefined ? {} : { param: mapped.param }),
      });
    }
  }
  if (
    error instanceof Error &&
    'statusCode' in error &&
    typeof error.statusCode === 'number' &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  ) {
    return new PipewrightError({
      code: 'request.invalid',
      message: error.message,
      status: error.statusCode,
      cause: error,
    });
  }
  return toPipewrightError(error);
}

export function isServerFault(status: number): boolean {
  return status >= 500 && status !== errorCodes['gateway.shutting_down'].status;
}
