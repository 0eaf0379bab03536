import type { ErrorScenario, FixtureSseEvent, ProviderContractFixtures } from '../../contract-fixtures.ts';

/**
 * Gemini API wire fixtures, written from the documented format (ai.google.dev/api/generate-content,
 * /gemini-api/docs/troubleshooting, /gemini-api/docs/rate-limits) and checked against recorded
 * responses in vercel/ai `packages/google/src/__fixtures__` (google-text.chunks.txt,
 * google-tool-call.json, google-429-retry-info.json): every SSE `data` is a whole
 * GenerateContentResponse, function calls arrive whole, there is no terminator event (the
 * chunk with a `finishReason` ends the stream), usage is `usageMetadata`, and errors are the
 * Google `{error:{code, message, status, details}}` envelope with the retry delay in
 * `google.rpc.RetryInfo` rather than a header.
 */

export const geminiFixtureModel = 'gemini-2.5-flash';

const responseId = 'bH6LaZW8Fp_3nsEPqtaSwQ4';
const jsonHeaders = { 'content-type': 'application/json; charset=UTF-8' };
const streamHeaders = { 'content-type': 'text/event-stream' };

function candidate(parts: unknown[], finishReason?: string) {
  return {
    content: { role: 'model', parts },
    index: 0,
    ...(finishReason === undefined ? {} : { finishReason }),
  };
}

function generateContentResponse(candidates: unknown[], usageMetadata?: Record<string, unknown>) {
  return {
    candidates,
    ...(usageMetadata === undefined ? {} : { usageMetadata }),
    modelVersion: geminiFixtureModel,
    responseId,
  };
}

/** One streamed GenerateContentResponse (Gemini's SSE events carry no `event:` name). */
export function geminiChunk(
  parts: unknown[],
  finishReason?: string,
  usageMetadata?: Record<string, unknown>,
): FixtureSseEvent {
  return { data: generateContentResponse([candidate(parts, finishReason)], usageMetadata) };
}

function googleError(code: number, status: string, message: string, details: unknown[] = []) {
  return { error: { code, message, status, ...(details.length === 0 ? {} : { details }) } };
}

function failure(
  name: string,
  status: number,
  body: unknown,
  expect: ErrorScenario['expect'],
): ErrorScenario {
  return { name, response: { status, headers: jsonHeaders, body }, expect };
}

const retryInfo = (delay: string) => ({
  '@type': 'type.googleapis.com/google.rpc.RetryInfo',
  retryDelay: delay,
});
const quotaFailure = (...quotaIds: string[]) => ({
  '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
  violations: quotaIds.map((quotaId) => ({
    quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
    quotaId,
  })),
});
const helpLink = {
  '@type': 'type.googleapis.com/google.rpc.Help',
  links: [
    {
      description: 'Learn more about Gemini API quotas',
      url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
    },
  ],
};
const quotaMessage =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.';

const chatPath = `/v1beta/models/${geminiFixtureModel}:generateContent`;
const streamPath = `/v1beta/models/${geminiFixtureModel}:streamGenerateContent?alt=sse`;
const sentHeaders = { 'x-goog-api-key': 'AIza-test', 'content-type': /^application\/json/ };
const plainTextBody = {
  systemInstruction: { parts: [{ text: 'You are terse.' }] },
  contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }],
  generationConfig: { maxOutputTokens: 64, temperature: 0 },
};
const weatherDeclaration = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** The complete fixture set for `runProviderContract` (deployment model `gemini-2.5-flash`, key `AIza-test`). */
export const geminiContractFixtures: ProviderContractFixtures = {
  plainText: {
    response: {
      headers: jsonHeaders,
      body: generateContentResponse([candidate([{ text: 'Hello!' }], 'STOP')], {
        promptTokenCount: 9,
        candidatesTokenCount: 2,
        totalTokenCount: 11,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: 9 }],
      }),
    },
    expect: { content: 'Hello!', finishReason: 'stop', usage: { inputTokens: 9, outputTokens: 2 } },
    sent: {
      path: chatPath,
      headers: sentHeaders,
      body: plainTextBody,
      absentBodyFields: ['tools', 'toolConfig', 'model'],
    },
  },

  toolCall: {
    response: {
      headers: jsonHeaders,
      body: generateContentResponse(
        [
          candidate(
            [
              {
                functionCall: { name: 'get_weather', args: { city: 'Paris' } },
                thoughtSignature: 'EskgCsYgAb4+9vtF7/499YQS2bjZs3xc',
              },
            ],
            'STOP',
          ),
        ],
        {
          promptTokenCount: 29,
          candidatesTokenCount: 15,
          totalTokenCount: 937,
          thoughtsTokenCount: 893,
        },
      ),
    },
    expect: {
      content: null,
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      finishReason: 'tool_calls',
      // Thinking tokens are output tokens, as OpenAI counts reasoning inside completion_tokens.
      usage: { inputTokens: 29, outputTokens: 908, reasoningTokens: 893 },
    },
    sent: {
      path: chatPath,
      headers: sentHeaders,
      body: {
        contents: [{ role: 'user', parts: [{ text: 'What is the weather in Paris?' }] }],
        tools: [{ functionDeclarations: [weatherDeclaration] }],
        toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
        generationConfig: { maxOutputTokens: 64 },
      },
    },
  },

  jsonOutput: {
    response: {
      headers: jsonHeaders,
      body: generateContentResponse([candidate([{ text: '{"name": "Ada Lovelace", "age": 36}' }], 'STOP')], {
        promptTokenCount: 12,
        candidatesTokenCount: 14,
        totalTokenCount: 26,
      }),
    },
    expect: {
      finishReason: 'stop',
      json: { name: 'Ada Lovelace', age: 36 },
      usage: { inputTokens: 12, outputTokens: 14 },
    },
    sent: {
      path: chatPath,
      body: {
        generationConfig: {
          maxOutputTokens: 64,
          responseMimeType: 'application/json',
          // additionalProperties is not part of Gemini's schema subset; the declared order is kept.
          responseSchema: {
            type: 'object',
            properties: { name: { type: 'string' }, age: { type: 'integer' } },
            propertyOrdering: ['name', 'age'],
            required: ['name', 'age'],
          },
        },
      },
    },
  },

  streamText: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        geminiChunk([{ text: 'Hel' }], undefined, {
          promptTokenCount: 9,
          candidatesTokenCount: 1,
          totalTokenCount: 10,
        }),
        geminiChunk([{ text: 'lo!' }], undefined, {
          promptTokenCount: 9,
          candidatesTokenCount: 2,
          totalTokenCount: 11,
        }),
        geminiChunk([{ text: '' }], 'STOP', {
          promptTokenCount: 9,
          candidatesTokenCount: 2,
          totalTokenCount: 11,
        }),
      ],
    },
    expect: { content: 'Hello!', finishReason: 'stop', usage: { inputTokens: 9, outputTokens: 2 } },
    sent: { path: streamPath, headers: sentHeaders, body: plainTextBody },
  },

  // Gemini sends each function call whole; two calls in two events are the closest it comes to fragments.
  streamToolCall: {
    wholeArguments: true,
    response: {
      headers: streamHeaders,
      sseEvents: [
        geminiChunk(
          [
            {
              functionCall: { name: 'get_weather', args: { city: 'Paris' } },
              thoughtSignature: 'EqUCCqICAb4+9vsh8Pd5taZVoPzS',
            },
          ],
          undefined,
          {
            promptTokenCount: 29,
            candidatesTokenCount: 15,
            totalTokenCount: 89,
            thoughtsTokenCount: 45,
          },
        ),
        geminiChunk([{ text: '' }], 'STOP', {
          promptTokenCount: 29,
          candidatesTokenCount: 15,
          totalTokenCount: 89,
          thoughtsTokenCount: 45,
        }),
      ],
    },
    expect: {
      content: null,
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      finishReason: 'tool_calls',
      usage: { inputTokens: 29, outputTokens: 60, reasoningTokens: 45 },
    },
    sent: {
      path: streamPath,
      body: {
        tools: [{ functionDeclarations: [weatherDeclaration] }],
        toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      },
    },
  },

  streamUsage: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        geminiChunk([{ text: 'There are **3**' }], undefined, {
          promptTokenCount: 9,
          candidatesTokenCount: 5,
          totalTokenCount: 199,
          thoughtsTokenCount: 185,
        }),
        geminiChunk([{ text: ' "r"s in strawberry.' }], undefined, {
          promptTokenCount: 9,
          candidatesTokenCount: 23,
          totalTokenCount: 217,
          thoughtsTokenCount: 185,
        }),
        geminiChunk([{ text: '', thoughtSignature: 'EqsFCqgFAb4+9vvtAF5n87lB4OGD' }], 'STOP', {
          promptTokenCount: 1033,
          cachedContentTokenCount: 1024,
          candidatesTokenCount: 23,
          totalTokenCount: 1241,
          thoughtsTokenCount: 185,
        }),
      ],
    },
    expect: {
      content: 'There are **3** "r"s in strawberry.',
      finishReason: 'stop',
      usage: { inputTokens: 1033, outputTokens: 208, cachedInputTokens: 1024, reasoningTokens: 185 },
    },
  },

  errors: {
    badRequest: failure(
      '400 INVALID_ARGUMENT',
      400,
      googleError(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified\n'),
      {
        kind: 'invalid_request',
        providerCode: 'INVALID_ARGUMENT',
      },
    ),
    authentication: failure(
      '400 API_KEY_INVALID',
      400,
      googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
          metadata: { service: 'generativelanguage.googleapis.com' },
        },
      ]),
      {
        kind: 'authentication',
        retryable: false,
        providerCode: 'API_KEY_INVALID',
        upstreamType: 'INVALID_ARGUMENT',
      },
    ),
    notFound: failure(
      '404 NOT_FOUND',
      404,
      googleError(
        404,
        'NOT_FOUND',
        'models/gemini-9.0-pro is not found for API version v1beta, or is not supported for generateContent.',
      ),
      { kind: 'not_found', providerCode: 'NOT_FOUND' },
    ),
    rateLimited: [
      failure(
        '429 RESOURCE_EXHAUSTED per minute with RetryInfo',
        429,
        googleError(429, 'RESOURCE_EXHAUSTED', quotaMessage, [
          quotaFailure('GenerateRequestsPerMinutePerProjectPerModel-FreeTier'),
          helpLink,
          retryInfo('34.4s'),
        ]),
        { kind: 'rate_limited', retryAfterMs: 34_400, retryable: true, providerCode: 'RESOURCE_EXHAUSTED' },
      ),
    ],
    quotaExhausted: failure(
      '429 RESOURCE_EXHAUSTED per-day quota',
      429,
      googleError(429, 'RESOURCE_EXHAUSTED', quotaMessage, [
        quotaFailure('GenerateRequestsPerDayPerProjectPerModel-FreeTier'),
        helpLink,
        retryInfo('3s'),
      ]),
      { kind: 'quota_exhausted', retryable: false, upstreamType: 'RESOURCE_EXHAUSTED' },
    ),
    contextLengthExceeded: failure(
      '400 input token count exceeds the maximum',
      400,
      googleError(
        400,
        'INVALID_ARGUMENT',
        'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).',
      ),
      { kind: 'context_length_exceeded', retryable: false, upstreamType: 'INVALID_ARGUMENT' },
    ),
    serverError: failure(
      '500 INTERNAL',
      500,
      googleError(
        500,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      ),
      {
        kind: 'server_error',
        retryable: true,
        providerCode: 'INTERNAL',
      },
    ),
    overloaded: [
      failure(
        '503 UNAVAILABLE',
        503,
        googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
        { kind: 'overloaded', retryable: true, providerCode: 'UNAVAILABLE' },
      ),
    ],
  },

  malformedJson: {
    response: {
      headers: jsonHeaders,
      raw: '{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel',
    },
  },

  streamCut: {
    response: {
      headers: streamHeaders,
      sseEvents: [geminiChunk([{ text: 'Once' }]), geminiChunk([{ text: ' upon' }])],
    },
  },

  streamMalformedChunk: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        geminiChunk([{ text: 'Hel' }]),
        { data: '{"candidates":[{"content":{"role":"model","parts":[{"text":"lo' },
        geminiChunk([{ text: '' }], 'STOP'),
      ],
    },
  },

  // A failure after the 200 headers arrives as an error object in an SSE event.
  streamErrorEvent: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        geminiChunk([{ text: 'Hel' }]),
        { data: googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.') },
      ],
    },
    expect: { kind: 'overloaded', upstreamType: 'UNAVAILABLE' },
  },
};
