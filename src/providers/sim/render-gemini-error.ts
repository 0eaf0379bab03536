import type { ErrorContext, RenderedError, SimError } from './sim-error.ts';

const statusNames: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const rpcType = (name: string): string => `type.googleapis.com/google.rpc.${name}`;

/**
 * An error in Google's envelope `{ error: { code, message, status, details } }`. Rate limits
 * carry `google.rpc.QuotaFailure` and `google.rpc.RetryInfo { retryDelay: "2s" }` in the body
 * (Gemini sends no retry headers); an exhausted daily quota carries no RetryInfo.
 */
export function renderGeminiError(error: SimError, context: ErrorContext): RenderedError {
  return {
    status: error.status,
    headers: {},
    body: JSON.stringify(renderGeminiErrorPayload(error, context)),
  };
}

/** The error payload alone: also what a stream sends as its error chunk. */
export function renderGeminiErrorPayload(
  error: SimError,
  context: ErrorContext,
): { error: Record<string, unknown> } {
  const status = statusNames[error.status] ?? (error.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  const [message, details] = describe(error, context);
  const body: Record<string, unknown> = { code: error.status, message: error.message ?? message, status };
  if (details !== undefined) body['details'] = details;
  return { error: body };
}

function describe(error: SimError, context: ErrorContext): [string, unknown[]?] {
  const model = context.model.replace(/^models\//, '');
  switch (error.kind) {
    case 'rate_limited': {
      const seconds = (error.retryAfterMs ?? 1000) / 1000;
      const delay = `${Number(seconds.toFixed(3))}s`;
      return [
        `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_requests, limit: ${error.rateLimit?.requestLimit ?? 60}, model: ${model}\nPlease retry in ${delay}.`,
        [
          quotaFailure(
            'GenerateRequestsPerMinutePerProjectPerModel',
            model,
            error.rateLimit?.requestLimit ?? 60,
          ),
          {
            '@type': rpcType('Help'),
            links: [
              {
                description: 'Learn more about Gemini API quotas',
                url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
              },
            ],
          },
          { '@type': rpcType('RetryInfo'), retryDelay: delay },
        ],
      ];
    }
    case 'quota_exhausted':
      return [
        `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_requests_per_day, model: ${model}`,
        [quotaFailure('GenerateRequestsPerDayPerProjectPerModel', model, 1000)],
      ];
    case 'server_error':
      return [
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      ];
    case 'overloaded':
      return ['The model is overloaded. Please try again later.'];
    case 'context_length_exceeded': {
      const tokens = error.tokens ?? { prompt: 0, limit: 0 };
      return [
        `The input token count (${tokens.prompt}) exceeds the maximum number of tokens allowed (${tokens.limit}).`,
      ];
    }
    case 'content_filtered':
      return ['The request was blocked by the content filter.'];
    case 'missing_key':
      return [
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      ];
    case 'invalid_key':
      return [
        'API key not valid. Please pass a valid API key.',
        [
          {
            '@type': rpcType('ErrorInfo'),
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
          {
            '@type': rpcType('LocalizedMessage'),
            locale: 'en-US',
            message: 'API key not valid. Please pass a valid API key.',
          },
        ],
      ];
    case 'invalid_request':
      return ['[simulated] Invalid request.'];
    case 'not_found':
      return [
        `models/${model} is not found for API version v1beta, or is not supported for generateContent.`,
      ];
    case 'permission_denied':
      return ['The caller does not have permission'];
    case 'request_too_large':
      return ['Request payload size exceeds the limit.'];
    case 'gateway_timeout':
      return ['Deadline expired before operation could complete.'];
    case 'other':
      return [`[simulated] HTTP ${error.status}.`];
  }
}

function quotaFailure(quotaId: string, model: string, limit: number): Record<string, unknown> {
  return {
    '@type': rpcType('QuotaFailure'),
    violations: [
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests',
        quotaId,
        quotaDimensions: { model, location: 'global' },
        quotaValue: String(limit),
      },
    ],
  };
}
