import {
  exhaustedRateLimit,
  formatOpenAIDuration,
  retryAfterSeconds,
  type ErrorContext,
  type RateLimitInfo,
  type RenderedError,
  type SimError,
} from './sim-error.ts';

/** OpenAI's `x-ratelimit-*` headers (Azure sends the remaining counts too). */
export function openAIRateLimitHeaders(info: RateLimitInfo): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(info.requestLimit),
    'x-ratelimit-limit-tokens': String(info.tokenLimit),
    'x-ratelimit-remaining-requests': String(info.requestRemaining),
    'x-ratelimit-remaining-tokens': String(info.tokenRemaining),
    'x-ratelimit-reset-requests': formatOpenAIDuration(info.requestResetMs),
    'x-ratelimit-reset-tokens': formatOpenAIDuration(info.tokenResetMs),
  };
}

/**
 * An error in OpenAI's envelope `{ error: { message, type, param, code } }`, with OpenAI's
 * retry signalling on 429s (`retry-after`, `retry-after-ms`, `x-ratelimit-*`). With `azure`,
 * Azure OpenAI's wording and `x-ms-retry-after-ms`.
 */
export function renderOpenAIError(error: SimError, context: ErrorContext, azure = false): RenderedError {
  const headers: Record<string, string> = {};
  const retryAfterMs = error.retryAfterMs;
  if (retryAfterMs !== undefined) {
    headers['retry-after'] = retryAfterSeconds(retryAfterMs);
    headers['retry-after-ms'] = String(retryAfterMs);
    if (azure) headers['x-ms-retry-after-ms'] = String(retryAfterMs);
  }
  if (error.kind === 'rate_limited')
    Object.assign(
      headers,
      openAIRateLimitHeaders(error.rateLimit ?? exhaustedRateLimit(retryAfterMs ?? 1000)),
    );
  const body = azure ? azureBody(error, context) : openAIBody(error, context);
  return { status: error.status, headers, body: JSON.stringify(body) };
}

function openAIBody(error: SimError, context: ErrorContext): { error: Record<string, unknown> } {
  const envelope = (
    message: string,
    type: string | null,
    code: string | null,
    param: string | null = null,
  ) => ({
    error: { message: error.message ?? message, type, param: error.param ?? param, code },
  });
  const wait = ((error.retryAfterMs ?? 1000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  switch (error.kind) {
    case 'rate_limited': {
      const limit = error.rateLimit?.requestLimit ?? 60;
      return envelope(
        `Rate limit reached for ${context.model} in organization org-simulated on requests per min (RPM): Limit ${limit}, Used ${limit}, Requested 1. Please try again in ${wait}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        'requests',
        'rate_limit_exceeded',
      );
    }
    case 'quota_exhausted':
      return envelope(
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        'insufficient_quota',
        'insufficient_quota',
      );
    case 'server_error':
      return envelope(
        'The server had an error while processing your request. Sorry about that!',
        'server_error',
        null,
      );
    case 'overloaded':
      return envelope('The server is overloaded or not ready yet.', 'server_error', 'server_is_overloaded');
    case 'context_length_exceeded': {
      const tokens = error.tokens ?? { prompt: 0, limit: 0 };
      return envelope(
        `This model's maximum context length is ${tokens.limit} tokens. However, your messages resulted in ${tokens.prompt} tokens. Please reduce the length of the messages.`,
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      );
    }
    case 'content_filtered':
      return envelope(
        'Your request was rejected as a result of our safety system.',
        'invalid_request_error',
        'content_filter',
        'messages',
      );
    case 'missing_key':
      return envelope(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        null,
      );
    case 'invalid_key':
      return envelope(
        `Incorrect API key provided: ${maskKey(error.apiKey ?? '')}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_request_error',
        'invalid_api_key',
      );
    case 'invalid_request':
      return envelope('[simulated] Bad request.', 'invalid_request_error', null);
    case 'not_found':
      return envelope(
        `The model \`${context.model}\` does not exist or you do not have access to it.`,
        'invalid_request_error',
        'model_not_found',
      );
    case 'permission_denied':
      return envelope(
        'You are not allowed to sample from this model.',
        'invalid_request_error',
        'permission_denied',
      );
    case 'request_too_large':
      return envelope('The request is too large.', 'invalid_request_error', 'request_too_large');
    case 'gateway_timeout':
      return envelope('Request timed out.', 'server_error', 'timeout');
    case 'other':
      return envelope(
        `[simulated] HTTP ${error.status}.`,
        error.status >= 500 ? 'server_error' : 'invalid_request_error',
        null,
      );
  }
}

function azureBody(error: SimError, context: ErrorContext): { error: Record<string, unknown> } {
  const seconds = retryAfterSeconds(error.retryAfterMs ?? 1000);
  switch (error.kind) {
    case 'rate_limited':
      return {
        error: {
          code: '429',
          message:
            error.message ??
            `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
        },
      };
    case 'missing_key':
    case 'invalid_key':
      return {
        error: {
          code: '401',
          message:
            'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
        },
      };
    case 'content_filtered':
      return {
        error: {
          message:
            error.message ??
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror: {
            code: 'ResponsibleAIPolicyViolation',
            content_filter_result: {
              hate: { filtered: false, severity: 'safe' },
              self_harm: { filtered: false, severity: 'safe' },
              sexual: { filtered: false, severity: 'safe' },
              violence: { filtered: true, severity: 'high' },
            },
          },
        },
      };
    case 'quota_exhausted':
    case 'server_error':
    case 'overloaded':
    case 'context_length_exceeded':
    case 'invalid_request':
    case 'not_found':
    case 'permission_denied':
    case 'request_too_large':
    case 'gateway_timeout':
    case 'other':
      return openAIBody(error, context);
  }
}

function maskKey(key: string): string {
  if (key.length <= 8) return `${key.slice(0, 3)}***`;
  return `${key.slice(0, 3)}${'*'.repeat(Math.min(20, key.length - 7))}${key.slice(-4)}`;
}
