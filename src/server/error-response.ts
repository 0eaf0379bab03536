import { errorCodes, PipewrightError, ProviderError, toPipewrightError } from '../core/index.ts';

/** The OpenAI error envelope, which every OpenAI SDK turns into its own error classes. */
export interface ErrorEnvelope {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string;
    details?: Record<string, unknown>;
  };
}

export interface ErrorResponse {
  status: number;
  body: ErrorEnvelope;
  headers: Record<string, string>;
}

/** Fastify's own errors (body parsing, limits) → our codes. */
const fastifyCodes: Record<string, PipewrightError['code']> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.invalid',
  FST_ERR_NOT_FOUND: 'gateway.not_found',
};

/**
 * The one place errors become HTTP responses: status from the error code, the OpenAI envelope,
 * and `retry-after` when the provider (or our limiter) said how long to wait.
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  const failure = normalize(error);
  const headers: Record<string, string> = {};
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
  const body: ErrorEnvelope = {
    error: {
      message: failure.message,
      type: failure.type,
      param: failure.param ?? null,
      code: failure.code,
      ...(failure.details === undefined ? {} : { details: failure.details }),
    },
  };
  return { status: failure.status, body, headers };
}

function normalize(error: unknown): PipewrightError {
  if (PipewrightError.isInstance(error)) return error;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    const mapped = fastifyCodes[error.code];
    if (mapped !== undefined) {
      const message =
        mapped === 'request.invalid_json' ? `body is not valid JSON: ${error.message}` : error.message;
      return new PipewrightError({
        code: mapped,
        message,
        cause: error,
        ...(mapped === 'request.invalid_json' ? { param: 'body' } : {}),
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
