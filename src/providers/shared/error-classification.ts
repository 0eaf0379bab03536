import { ProviderError, type ProviderErrorKind } from '../../core/index.ts';
import { parseRetryAfterMs } from './parse-retry-after.ts';

/**
 * The default kind for an HTTP status, before any provider-specific refinement.
 *
 * @example
 * classifyByStatus(529); // 'overloaded'
 * classifyByStatus(418); // 'invalid_request'
 */
export function classifyByStatus(status: number): ProviderErrorKind {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return 'invalid_request';
    case 401:
      return 'authentication';
    case 402:
      return 'quota_exhausted';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 408:
    case 504:
      return 'timeout';
    case 429:
      return 'rate_limited';
    case 503:
    case 529:
      return 'overloaded';
    default:
      if (status >= 500) return 'server_error';
      if (status >= 400) return 'invalid_request';
      // A 2xx/3xx reaching error mapping means the body itself carried the error.
      return 'server_error';
  }
}

// Out of credit or over a spend cap: retrying anywhere on the same account cannot help.
const quotaCodes = new Set([
  'insufficient_quota',
  'enforced_spend_limit_reached',
  'billing_error',
  'billing_hard_limit_reached',
  'payment_required',
]);
const quotaMessagePattern = /enforced_spend_limit_reached|credit balance is too low|billing hard limit/i;

const contextLengthCodes = new Set([
  'context_length_exceeded',
  'model_context_window_exceeded',
  'context_window_exceeded',
]);
const contextLengthMessagePatterns: readonly RegExp[] = [
  /context_length_exceeded/i,
  // OpenAI, vLLM, Groq: "This model's maximum context length is 8192 tokens. However, you requested …"
  /maximum context length/i,
  // Anthropic: "prompt is too long: 201234 tokens > 200000 maximum"
  /prompt is too long/i,
  // Anthropic: "input length and `max_tokens` exceed context limit"
  /exceed(s|ed)? (the )?context (limit|window)/i,
  // Gemini: "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576)."
  /input token count.*exceeds/i,
  // sglang: "The input (9000 tokens) is longer than the model's context length (8192 tokens)."
  /longer than the model'?s context length/i,
  /context length (of|is) .*exceeded|exceeds? (the )?(model'?s? )?(maximum )?context length/i,
  // Mistral: "Prompt contains 40000 tokens … too large for model with 32768 maximum context length"
  /too large for model with \d+ maximum context length/i,
  // TGI / Together: "`inputs` tokens + `max_new_tokens` must be <= 4097"
  /`?inputs`? tokens \+ `?max_new_tokens`? must be/i,
  // llama.cpp / LM Studio
  /exceeds the available context size|context (window|size) (is )?exceeded/i,
];

const contentFilterCodes = new Set([
  'content_filter',
  'content_policy_violation',
  'content_filtered',
  'responsibleaipolicyviolation',
  'safety',
]);
const contentFilterMessagePatterns: readonly RegExp[] = [
  /content[_ ]filter/i,
  /content[_ ]policy[_ ]violation|violat\w* (our|the) (content|usage) polic/i,
  /content management policy/i,
  /\bsafety\b/i,
];

const overloadedCodes = new Set(['server_is_overloaded', 'overloaded_error', 'overloaded', 'unavailable']);

// Used only when the status says nothing (errors inside 200 streams, odd gateways).
const codeKinds: Record<string, ProviderErrorKind> = {
  rate_limit_exceeded: 'rate_limited',
  rate_limit_error: 'rate_limited',
  slow_down: 'rate_limited',
  too_many_requests: 'rate_limited',
  resource_exhausted: 'rate_limited',
  authentication_error: 'authentication',
  invalid_api_key: 'authentication',
  unauthenticated: 'authentication',
  permission_error: 'permission_denied',
  permission_denied: 'permission_denied',
  not_found_error: 'not_found',
  model_not_found: 'not_found',
  not_found: 'not_found',
  invalid_request_error: 'invalid_request',
  invalid_argument: 'invalid_request',
  failed_precondition: 'invalid_request',
  request_too_large: 'invalid_request',
  api_error: 'server_error',
  server_error: 'server_error',
  internal: 'server_error',
  internal_error: 'server_error',
  timeout: 'timeout',
  deadline_exceeded: 'timeout',
};

/** What an adapter knows about a failure: the status and whatever codes/types/message the body had. */
export interface UpstreamErrorFacts {
  /** The HTTP status; 200 (or undefined) for an error object found inside a stream. */
  status?: number | undefined;
  /** Every code-ish string from the body: `error.code`, `error.type`, `error.status`, `details.error_code`… */
  codes?: ReadonlyArray<string | number | null | undefined>;
  message?: string | undefined;
}

function normalizeCodes(codes: UpstreamErrorFacts['codes']): string[] {
  const out: string[] = [];
  for (const code of codes ?? []) {
    if (typeof code === 'string' && code !== '') out.push(code.toLowerCase());
  }
  return out;
}

/**
 * True when the codes or message say the prompt did not fit the model's context window
 * (OpenAI, Anthropic, Gemini, vLLM, sglang, Mistral, TGI and llama.cpp phrasings).
 *
 * @example
 * isContextLengthExceeded({ message: "This model's maximum context length is 8192 tokens." }); // true
 */
export function isContextLengthExceeded(facts: UpstreamErrorFacts): boolean {
  if (normalizeCodes(facts.codes).some((code) => contextLengthCodes.has(code))) return true;
  const message = facts.message;
  return message !== undefined && contextLengthMessagePatterns.some((pattern) => pattern.test(message));
}

/**
 * True when the codes or message say a safety / content filter blocked the request.
 *
 * @example
 * isContentFiltered({ codes: ['content_policy_violation'] }); // true
 */
export function isContentFiltered(facts: UpstreamErrorFacts): boolean {
  if (normalizeCodes(facts.codes).some((code) => contentFilterCodes.has(code))) return true;
  const message = facts.message;
  return message !== undefined && contentFilterMessagePatterns.some((pattern) => pattern.test(message));
}

/**
 * True when the account is out of credit or over a spend limit: OpenAI `insufficient_quota`
 * (sent as a 429!), Anthropic `enforced_spend_limit_reached` / `billing_error`, any 402.
 *
 * @example
 * isQuotaExhausted({ status: 429, codes: ['insufficient_quota'] }); // true
 */
export function isQuotaExhausted(facts: UpstreamErrorFacts): boolean {
  if (facts.status === 402) return true;
  if (normalizeCodes(facts.codes).some((code) => quotaCodes.has(code))) return true;
  const message = facts.message;
  return message !== undefined && quotaMessagePattern.test(message);
}

/**
 * Maps what is known about an upstream failure to the taxonomy: quota first (never retryable,
 * even on a 429), then context length and content filtering on client errors, then overload
 * codes, then the status, then codes alone for errors found inside 200 streams.
 *
 * @example
 * classifyUpstreamError({ status: 429, codes: ['insufficient_quota'] }); // 'quota_exhausted'
 * classifyUpstreamError({ status: 400, message: 'prompt is too long: 300000 tokens > 200000 maximum' }); // 'context_length_exceeded'
 */
export function classifyUpstreamError(facts: UpstreamErrorFacts): ProviderErrorKind {
  const status = facts.status;
  const codes = normalizeCodes(facts.codes);
  if (isQuotaExhausted(facts)) return 'quota_exhausted';
  const statusIsError = status !== undefined && status >= 400;
  // Message patterns only on request-shaped failures: a 429 or 5xx that mentions "safety" is not a filter verdict.
  const clientError = !statusIsError || status === 400 || status === 403 || status === 413 || status === 422;
  if (codes.some((code) => contextLengthCodes.has(code))) return 'context_length_exceeded';
  if (clientError && isContextLengthExceeded({ message: facts.message })) return 'context_length_exceeded';
  if (codes.some((code) => contentFilterCodes.has(code))) return 'content_filtered';
  if (clientError && status !== 403 && isContentFiltered({ message: facts.message }))
    return 'content_filtered';
  if (codes.some((code) => overloadedCodes.has(code))) return 'overloaded';
  if (statusIsError) return classifyByStatus(status);
  for (const code of codes) {
    const kind = codeKinds[code];
    if (kind !== undefined) return kind;
  }
  return 'server_error';
}

/**
 * The provider's request id from the usual headers (`x-request-id`, `request-id`,
 * `apim-request-id`, `x-goog-request-id`…).
 *
 * @example
 * readRequestId({ 'x-request-id': 'req_123' }); // 'req_123'
 */
export function readRequestId(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  return (
    headers['x-request-id'] ??
    headers['request-id'] ??
    headers['apim-request-id'] ??
    headers['x-goog-request-id'] ??
    headers['cf-ray']
  );
}

export interface CreateUpstreamErrorOptions extends UpstreamErrorFacts {
  provider: string;
  /** The response headers (lowercase keys), for retry-after and the request id. */
  headers?: Readonly<Record<string, string | undefined>>;
  /** The provider's own code to keep on the error (`insufficient_quota`, `overloaded_error`). */
  providerCode?: string | undefined;
  /** The upstream's error code, type and param exactly as sent (see ProviderError). */
  upstreamCode?: string | undefined;
  upstreamType?: string | undefined;
  upstreamParam?: string | null | undefined;
  /** For an error found inside a 200 answer (no error status): a stream event or a whole body. Default `stream`. */
  inBand?: 'stream' | 'body';
  /** Forces a kind; otherwise {@link classifyUpstreamError} decides. */
  kind?: ProviderErrorKind;
  deployment?: string | undefined;
  /** Now in ms since the epoch, for HTTP-date retry-after values. */
  now?: number;
  /** A retry hint found in the body (Gemini's RetryInfo), used when no header gives one. */
  bodyRetryAfterMs?: number | undefined;
}

/**
 * Builds the ProviderError for an upstream failure: kind, message naming the provider and
 * status (the provider's own words after it, credentials removed by ProviderError), retry-after
 * in ms from the headers, provider code, the upstream's code/type/param as sent, and request id.
 *
 * @example
 * throw createUpstreamError({ provider: 'openai', status: 429, headers, codes: [code, type], message, providerCode: code });
 */
export function createUpstreamError(options: CreateUpstreamErrorOptions): ProviderError {
  const headers = options.headers ?? {};
  const kind = options.kind ?? classifyUpstreamError(options);
  const retryAfterMs = parseRetryAfterMs(headers, options.now) ?? options.bodyRetryAfterMs;
  const requestId = readRequestId(headers);
  const status = options.status;
  const where =
    status !== undefined && status >= 300
      ? `${options.provider} returned ${status}`
      : options.inBand === 'body'
        ? `${options.provider} error in a 200 response`
        : `${options.provider} stream error`;
  const message =
    options.message === undefined || options.message === ''
      ? `${where} (${kind})`
      : `${where}: ${options.message}`;
  return new ProviderError({
    kind,
    message,
    provider: options.provider,
    ...(options.deployment === undefined ? {} : { deployment: options.deployment }),
    ...(status === undefined ? {} : { upstreamStatus: status }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(options.providerCode === undefined ? {} : { providerCode: options.providerCode }),
    ...(options.upstreamCode === undefined ? {} : { upstreamCode: options.upstreamCode }),
    ...(options.upstreamType === undefined ? {} : { upstreamType: options.upstreamType }),
    ...(options.upstreamParam === undefined ? {} : { upstreamParam: options.upstreamParam }),
    ...(requestId === undefined ? {} : { requestId }),
  });
}
