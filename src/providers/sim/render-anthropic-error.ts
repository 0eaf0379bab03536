import {
  exhaustedRateLimit,
  retryAfterSeconds,
  type ErrorContext,
  type RateLimitInfo,
  type RenderedError,
  type SimError,
} from './sim-error.ts';

/** Anthropic's `anthropic-ratelimit-*` headers; resets are RFC 3339 timestamps. */
export function anthropicRateLimitHeaders(info: RateLimitInfo, now: number): Record<string, string> {
  const requestReset = new Date(now + info.requestResetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const tokenReset = new Date(now + info.tokenResetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const headers: Record<string, string> = {
    'anthropic-ratelimit-requests-limit': String(info.requestLimit),
    'anthropic-ratelimit-requests-remaining': String(info.requestRemaining),
    'anthropic-ratelimit-requests-reset': requestReset,
    'anthropic-ratelimit-tokens-limit': String(info.tokenLimit),
    'anthropic-ratelimit-tokens-remaining': String(info.tokenRemaining),
    'anthropic-ratelimit-tokens-reset': tokenReset,
  };
  for (const direction of ['input', 'output']) {
    headers[`anthropic-ratelimit-${direction}-tokens-limit`] = String(info.tokenLimit);
    headers[`anthropic-ratelimit-${direction}-tokens-remaining`] = String(info.tokenRemaining);
    headers[`anthropic-ratelimit-${direction}-tokens-reset`] = tokenReset;
  }
  return headers;
}

/**
 * An error in Anthropic's envelope `{ type: "error", error: { type, message }, request_id }`,
 * with `retry-after` and `anthropic-ratelimit-*` headers on 429s, `overloaded_error` on 529.
 */
export function renderAnthropicError(error: SimError, context: ErrorContext): RenderedError {
  const headers: Record<string, string> = {};
  if (error.retryAfterMs !== undefined) headers['retry-after'] = retryAfterSeconds(error.retryAfterMs);
  if (error.kind === 'rate_limited') {
    Object.assign(
      headers,
      anthropicRateLimitHeaders(
        error.rateLimit ?? exhaustedRateLimit(error.retryAfterMs ?? 1000),
        context.now,
      ),
    );
  }
  return { status: error.status, headers, body: JSON.stringify(renderAnthropicErrorPayload(error, context)) };
}

/** The error payload alone: also the data of an `event: error` inside a stream. */
export function renderAnthropicErrorPayload(error: SimError, context: ErrorContext): Record<string, unknown> {
  const [type, message, details] = describe(error, context);
  const payload: Record<string, unknown> = { type, message: error.message ?? message };
  if (details !== undefined) payload['details'] = details;
  return { type: 'error', error: payload, request_id: context.requestId };
}

function describe(error: SimError, context: ErrorContext): [string, string, Record<string, unknown>?] {
  switch (error.kind) {
    case 'rate_limited':
      return [
        'rate_limit_error',
        `This request would exceed the rate limit for your organization of ${error.rateLimit?.requestLimit ?? 60} requests per minute for ${context.model}. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`,
      ];
    case 'quota_exhausted': {
      const month = new Date(context.now);
      const next = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1))
        .toISOString()
        .slice(0, 10);
      return [
        'rate_limit_error',
        `You have reached your specified API usage limits. You will regain access on ${next} at 00:00 UTC.`,
        { error_code: 'enforced_spend_limit_reached' },
      ];
    }
    case 'server_error':
      return ['api_error', 'Internal server error'];
    case 'overloaded':
      return ['overloaded_error', 'Overloaded'];
    case 'context_length_exceeded': {
      const tokens = error.tokens ?? { prompt: 0, limit: 0 };
      return [
        'invalid_request_error',
        `prompt is too long: ${tokens.prompt} tokens > ${tokens.limit} maximum`,
      ];
    }
    case 'content_filtered':
      return ['invalid_request_error', 'Output blocked by content filtering policy'];
    case 'missing_key':
      return ['authentication_error', 'x-api-key header is required'];
    case 'invalid_key':
      return ['authentication_error', 'invalid x-api-key'];
    case 'invalid_request':
      return ['invalid_request_error', '[simulated] Bad request'];
    case 'not_found':
      return ['not_found_error', `model: ${context.model}`];
    case 'permission_denied':
      return ['permission_error', 'Your API key does not have permission to use the specified resource.'];
    case 'request_too_large':
      return ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'];
    case 'gateway_timeout':
      return ['timeout_error', 'Request timed out'];
    case 'other':
      return [
        error.status === 402 ? 'billing_error' : error.status >= 500 ? 'api_error' : 'invalid_request_error',
        `[simulated] HTTP ${error.status}`,
      ];
  }
}
