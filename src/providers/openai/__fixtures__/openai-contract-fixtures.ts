import type {
  ErrorScenario,
  FixtureSseEvent,
  ProviderContractFixtures,
  SentRequestExpectation,
} from '../../contract-fixtures.ts';

/**
 * OpenAI Chat Completions wire fixtures, written from the documented format (platform.openai.com
 * API reference; openai-openapi `CreateChatCompletionStreamResponse`): `chat.completion.chunk`
 * events, tool calls streamed by `index` with id + name on the first fragment, the usage-only
 * final chunk with empty `choices` when `stream_options.include_usage` is set, `data: [DONE]`,
 * and the `{error:{message,type,param,code}}` envelope.
 */

export const openAIFixtureModel = 'gpt-4o-mini-2024-07-18';

const chunkBase = {
  id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
  object: 'chat.completion.chunk',
  created: 1741570283,
  model: openAIFixtureModel,
  system_fingerprint: 'fp_06737a9306',
};

/** One `chat.completion.chunk` event with a single choice. */
export function openAIChunk(
  delta: Record<string, unknown>,
  finishReason: string | null = null,
): FixtureSseEvent {
  return {
    data: {
      ...chunkBase,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      usage: null,
    },
  };
}

/** The usage-only final chunk sent when `stream_options.include_usage` is true. */
export function openAIUsageChunk(usage: Record<string, unknown>): FixtureSseEvent {
  return { data: { ...chunkBase, choices: [], usage } };
}

export const openAIDone: FixtureSseEvent = { data: '[DONE]' };

export const openAIStreamUsage = {
  prompt_tokens: 1117,
  completion_tokens: 46,
  total_tokens: 1163,
  prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};

function completion(message: Record<string, unknown>, finishReason: string, usage: Record<string, unknown>) {
  return {
    id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
    object: 'chat.completion',
    created: 1741570283,
    model: openAIFixtureModel,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', refusal: null, annotations: [], ...message },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage,
    service_tier: 'default',
    system_fingerprint: 'fp_06737a9306',
  };
}

function errorBody(message: string, type: string | null, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

const jsonHeaders = { 'content-type': 'application/json', 'x-request-id': 'req_3f1b0c9a' };

/** What differs per deployment flavour in the request the adapter sends. */
export interface OpenAIFixtureOptions {
  /** The chat completions path + query, e.g. `/v1/chat/completions`. */
  chatPath: string;
  /** The auth header expected upstream, e.g. `{ authorization: 'Bearer sk-test' }`. */
  authHeaders: Record<string, string | RegExp>;
  /** Headers that must not be sent (Azure: `authorization`). */
  absentHeaders?: string[];
  /** The `model` the body must carry (the deployment's upstream model). */
  model: string;
  /** Whether the stream request must carry `stream_options.include_usage: true`. Default true. */
  expectStreamUsageOption?: boolean;
}

const rateLimitMessage =
  'Rate limit reached for gpt-4o-mini in organization org-test on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.';

function rateLimited(
  name: string,
  headers: Record<string, string>,
  retryAfterMs: number,
  toleranceMs = 0,
): ErrorScenario {
  return {
    name,
    response: {
      status: 429,
      headers: {
        ...jsonHeaders,
        'x-ratelimit-limit-requests': '3',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '20s',
        'x-ratelimit-reset-tokens': '6m0s',
        ...headers,
      },
      body: errorBody(rateLimitMessage, 'requests', 'rate_limit_exceeded'),
    },
    expect: {
      kind: 'rate_limited',
      retryAfterMs,
      providerCode: 'rate_limit_exceeded',
      ...(toleranceMs === 0 ? {} : { retryAfterToleranceMs: toleranceMs }),
    },
  };
}

/**
 * The full OpenAI fixture set for a deployment flavour.
 *
 * @example
 * createOpenAIContractFixtures({ chatPath: '/v1/chat/completions', authHeaders: { authorization: 'Bearer sk-test' }, model: 'gpt-4o-mini' });
 */
export function createOpenAIContractFixtures(options: OpenAIFixtureOptions): ProviderContractFixtures {
  const sent = (body: Record<string, unknown>, absentBodyFields?: string[]): SentRequestExpectation => ({
    path: options.chatPath,
    headers: { 'content-type': /^application\/json/, ...options.authHeaders },
    ...(options.absentHeaders === undefined ? {} : { absentHeaders: options.absentHeaders }),
    body,
    ...(absentBodyFields === undefined ? {} : { absentBodyFields }),
  });
  const streamUsageOption = options.expectStreamUsageOption ?? true;
  // An HTTP date 30 s ahead: the hint shrinks while tests run, hence the tolerance.
  const retryAt = new Date(Math.ceil((Date.now() + 30_000) / 1000) * 1000).toUTCString();

  return {
    plainText: {
      response: {
        headers: jsonHeaders,
        body: completion({ content: 'Hello!' }, 'stop', {
          prompt_tokens: 19,
          completion_tokens: 3,
          total_tokens: 22,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: {
            reasoning_tokens: 0,
            audio_tokens: 0,
            accepted_prediction_tokens: 0,
            rejected_prediction_tokens: 0,
          },
        }),
      },
      expect: {
        content: 'Hello!',
        finishReason: 'stop',
        usage: { inputTokens: 19, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0 },
      },
      sent: sent(
        {
          model: options.model,
          messages: [
            { role: 'system', content: 'You are terse.' },
            { role: 'user', content: 'Say hello.' },
          ],
          max_tokens: 64,
          temperature: 0,
        },
        ['stream', 'stream_options'],
      ),
    },
    toolCall: {
      response: {
        headers: jsonHeaders,
        body: completion(
          {
            content: null,
            tool_calls: [
              {
                id: 'call_Dn2RJJSxzDm49vlVTehseJ0k',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          'tool_calls',
          { prompt_tokens: 58, completion_tokens: 15, total_tokens: 73 },
        ),
      },
      expect: {
        content: null,
        toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
        finishReason: 'tool_calls',
        usage: { inputTokens: 58, outputTokens: 15 },
      },
      sent: sent({
        model: options.model,
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Current weather for a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            },
          },
        ],
        tool_choice: 'auto',
      }),
    },
    jsonOutput: {
      response: {
        headers: jsonHeaders,
        body: completion({ content: '{"name":"Ada Lovelace","age":36}' }, 'stop', {
          prompt_tokens: 61,
          completion_tokens: 12,
          total_tokens: 73,
        }),
      },
      expect: { finishReason: 'stop', json: { name: 'Ada Lovelace', age: 36 } },
      sent: sent({
        model: options.model,
        response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true } },
      }),
    },
    streamText: {
      response: {
        sseEvents: [
          openAIChunk({ role: 'assistant', content: '', refusal: null }),
          openAIChunk({ content: 'Hel' }),
          openAIChunk({ content: 'lo!' }),
          openAIChunk({}, 'stop'),
          openAIUsageChunk({ prompt_tokens: 19, completion_tokens: 3, total_tokens: 22 }),
          openAIDone,
        ],
      },
      expect: { content: 'Hello!', finishReason: 'stop', usage: { inputTokens: 19, outputTokens: 3 } },
      sent: sent(
        {
          model: options.model,
          stream: true,
          ...(streamUsageOption ? { stream_options: { include_usage: true } } : {}),
          max_tokens: 64,
        },
        streamUsageOption ? [] : ['stream_options'],
      ),
    },
    streamToolCall: {
      response: {
        sseEvents: [
          openAIChunk({
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                index: 0,
                id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA',
                type: 'function',
                function: { name: 'get_weather', arguments: '' },
              },
            ],
            refusal: null,
          }),
          openAIChunk({ tool_calls: [{ index: 0, function: { arguments: '{"' } }] }),
          openAIChunk({ tool_calls: [{ index: 0, function: { arguments: 'city' } }] }),
          openAIChunk({ tool_calls: [{ index: 0, function: { arguments: '":"Par' } }] }),
          openAIChunk({ tool_calls: [{ index: 0, function: { arguments: 'is"}' } }] }),
          openAIChunk({}, 'tool_calls'),
          openAIUsageChunk({ prompt_tokens: 58, completion_tokens: 15, total_tokens: 73 }),
          openAIDone,
        ],
      },
      expect: {
        content: null,
        toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
        finishReason: 'tool_calls',
      },
      sent: sent({ model: options.model, stream: true, tool_choice: 'auto' }),
    },
    streamUsage: {
      response: {
        sseEvents: [
          openAIChunk({ role: 'assistant', content: 'Hi' }),
          openAIChunk({}, 'stop'),
          openAIUsageChunk(openAIStreamUsage),
          openAIDone,
        ],
      },
      expect: {
        content: 'Hi',
        finishReason: 'stop',
        usage: { inputTokens: 1117, outputTokens: 46, cachedInputTokens: 1024, reasoningTokens: 0 },
      },
    },
    errors: {
      badRequest: {
        name: '400 invalid_request_error',
        response: {
          status: 400,
          headers: jsonHeaders,
          body: errorBody(
            "Invalid value for 'temperature': expected a number between 0 and 2.",
            'invalid_request_error',
            'invalid_value',
            'temperature',
          ),
        },
        expect: {
          kind: 'invalid_request',
          providerCode: 'invalid_value',
          upstreamCode: 'invalid_value',
          upstreamType: 'invalid_request_error',
          upstreamParam: 'temperature',
        },
      },
      authentication: {
        name: '401 invalid_api_key',
        response: {
          status: 401,
          headers: jsonHeaders,
          body: errorBody(
            'Incorrect API key provided: sk-proj-************************************************************************************************************************************************************DtQA. You can find your API key at https://platform.openai.com/account/api-keys.',
            'invalid_request_error',
            'invalid_api_key',
          ),
        },
        expect: {
          kind: 'authentication',
          providerCode: 'invalid_api_key',
          upstreamCode: 'invalid_api_key',
          upstreamType: 'invalid_request_error',
          upstreamParam: null,
          messageExcludes: ['sk-proj', 'DtQA'],
        },
      },
      notFound: {
        name: '404 model_not_found',
        response: {
          status: 404,
          headers: jsonHeaders,
          body: errorBody(
            'The model `gpt-nope` does not exist or you do not have access to it.',
            'invalid_request_error',
            'model_not_found',
          ),
        },
        expect: { kind: 'not_found', providerCode: 'model_not_found' },
      },
      rateLimited: [
        rateLimited('429 with retry-after seconds', { 'retry-after': '20' }, 20_000),
        rateLimited('429 with retry-after-ms', { 'retry-after-ms': '1500', 'retry-after': '2' }, 1500),
        rateLimited('429 with x-ms-retry-after-ms', { 'x-ms-retry-after-ms': '750' }, 750),
        rateLimited('429 with retry-after as an HTTP date', { 'retry-after': retryAt }, 30_000, 15_000),
      ],
      quotaExhausted: {
        name: '429 insufficient_quota',
        response: {
          status: 429,
          headers: { ...jsonHeaders, 'retry-after': '1' },
          body: errorBody(
            'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
            'insufficient_quota',
            'insufficient_quota',
          ),
        },
        expect: {
          kind: 'quota_exhausted',
          retryable: false,
          providerCode: 'insufficient_quota',
          upstreamCode: 'insufficient_quota',
          upstreamType: 'insufficient_quota',
        },
      },
      contextLengthExceeded: {
        name: '400 context_length_exceeded',
        response: {
          status: 400,
          headers: jsonHeaders,
          body: errorBody(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130542 tokens. Please reduce the length of the messages.",
            'invalid_request_error',
            'context_length_exceeded',
            'messages',
          ),
        },
        expect: {
          kind: 'context_length_exceeded',
          retryable: false,
          providerCode: 'context_length_exceeded',
          upstreamCode: 'context_length_exceeded',
          upstreamType: 'invalid_request_error',
          upstreamParam: 'messages',
        },
      },
      serverError: {
        name: '500 server_error',
        response: {
          status: 500,
          headers: jsonHeaders,
          body: errorBody(
            'The server had an error while processing your request. Sorry about that!',
            'server_error',
            null,
          ),
        },
        expect: { kind: 'server_error', retryable: true },
      },
      overloaded: [
        {
          name: '503 server_is_overloaded',
          response: {
            status: 503,
            headers: jsonHeaders,
            body: errorBody(
              'The server is overloaded or not ready yet.',
              'server_error',
              'server_is_overloaded',
            ),
          },
          expect: { kind: 'overloaded', retryable: true, providerCode: 'server_is_overloaded' },
        },
      ],
      contentFiltered: {
        name: '400 content_policy_violation',
        response: {
          status: 400,
          headers: jsonHeaders,
          body: errorBody(
            'Your request was rejected as a result of our safety system.',
            'invalid_request_error',
            'content_policy_violation',
          ),
        },
        expect: { kind: 'content_filtered', retryable: false },
      },
    },
    malformedJson: {
      response: {
        headers: { 'content-type': 'application/json' },
        raw: '{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,',
      },
    },
    streamCut: {
      response: {
        sseEvents: [
          openAIChunk({ role: 'assistant', content: '' }),
          openAIChunk({ content: 'Once upon' }),
          openAIChunk({ content: ' a time' }),
        ],
      },
    },
    streamMalformedChunk: {
      response: {
        sseEvents: [
          openAIChunk({ role: 'assistant', content: 'Hi' }),
          { data: '{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"th' },
          openAIChunk({}, 'stop'),
          openAIDone,
        ],
      },
    },
    streamErrorEvent: {
      response: {
        sseEvents: [
          openAIChunk({ role: 'assistant', content: 'Hi' }),
          {
            data: {
              error: {
                message: 'The server had an error while processing your request.',
                type: 'server_error',
                param: null,
                code: null,
              },
            },
          },
        ],
      },
      expect: { kind: 'server_error', upstreamType: 'server_error', upstreamParam: null },
    },
  };
}
