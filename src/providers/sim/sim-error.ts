/** What went wrong, before it is dressed in one provider's error format. */
export type SimErrorKind =
  | 'rate_limited'
  | 'quota_exhausted'
  | 'server_error'
  | 'overloaded'
  | 'context_length_exceeded'
  | 'content_filtered'
  | 'missing_key'
  | 'invalid_key'
  | 'invalid_request'
  | 'not_found'
  | 'permission_denied'
  | 'request_too_large'
  | 'gateway_timeout'
  | 'other';

/** The state of a (real or pretend) rate-limit window, sent as each provider's headers. */
export interface RateLimitInfo {
  requestLimit: number;
  requestRemaining: number;
  requestResetMs: number;
  tokenLimit: number;
  tokenRemaining: number;
  tokenResetMs: number;
}

export interface SimError {
  kind: SimErrorKind;
  status: number;
  /** Overrides the provider's usual wording (validation errors name the field here). */
  message?: string;
  /** The request field at fault (OpenAI's `param`). */
  param?: string;
  retryAfterMs?: number;
  rateLimit?: RateLimitInfo;
  /** For context-length errors: the prompt size and the window. */
  tokens?: { prompt: number; limit: number };
  /** The key the caller sent, for "Incorrect API key provided: inv***". */
  apiKey?: string;
}

/** What the error renderers need to know about the request. */
export interface ErrorContext {
  model: string;
  requestId: string;
  /** Wall-clock now in ms, for RFC 3339 reset times. */
  now: number;
}

/** A rendered HTTP error. */
export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The kind of error an HTTP status stands for when a fault asks for a bare status. */
export function kindForStatus(status: number): SimErrorKind {
  switch (status) {
    case 400:
      return 'invalid_request';
    case 401:
      return 'invalid_key';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limited';
    case 500:
    case 502:
      return 'server_error';
    case 503:
    case 529:
      return 'overloaded';
    case 504:
      return 'gateway_timeout';
    default:
      return status >= 500 ? 'server_error' : 'other';
  }
}

/** The stats outcome of an error response. */
export function outcomeForError(error: SimError): string {
  switch (error.kind) {
    case 'missing_key':
    case 'invalid_key':
      return 'unauthenticated';
    case 'other':
      return `http_${error.status}`;
    case 'rate_limited':
    case 'quota_exhausted':
    case 'server_error':
    case 'overloaded':
    case 'context_length_exceeded':
    case 'content_filtered':
    case 'invalid_request':
    case 'not_found':
    case 'permission_denied':
    case 'request_too_large':
    case 'gateway_timeout':
      return error.kind;
  }
}

/** OpenAI's rate-limit durations: `12ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatOpenAIDuration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const totalSeconds = rounded / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.round((totalSeconds % 60) * 1000) / 1000;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** A `retry-after` header value: whole seconds, rounded up, at least 1 when any wait is asked. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(ms > 0 ? 1 : 0, Math.ceil(ms / 1000)));
}

/** A made-up but consistent rate-limit window for injected 429s: exhausted until the retry time. */
export function exhaustedRateLimit(retryAfterMs: number): RateLimitInfo {
  return {
    requestLimit: 60,
    requestRemaining: 0,
    requestResetMs: retryAfterMs,
    tokenLimit: 150_000,
    tokenRemaining: 0,
    tokenResetMs: retryAfterMs,
  };
}
