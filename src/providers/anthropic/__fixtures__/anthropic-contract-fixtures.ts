import type { ErrorScenario, FixtureSseEvent, ProviderContractFixtures } from '../../contract-fixtures.ts';

/**
 * Anthropic Messages API wire fixtures, written from the documented format
 * (docs.anthropic.com/en/api/messages, /en/docs/build-with-claude/streaming, /en/api/errors,
 * /en/api/rate-limits) and checked against recorded streams in vercel/ai
 * `packages/anthropic/src/__fixtures__`: named SSE events (`message_start` … `message_stop`,
 * `ping`, `error`), tool input streamed as `input_json_delta` fragments, usage with the cache
 * buckets outside `input_tokens`, the `{type:'error', error:{type, message}, request_id}`
 * envelope, `retry-after` and `anthropic-ratelimit-*` headers, and 529 `overloaded_error`.
 */

export const anthropicFixtureModel = 'claude-sonnet-4-5-20250929';

/** The clock the contract's adapter runs on, so rate-limit reset timestamps give exact waits. */
export const anthropicFixtureNow = Date.parse('2025-06-01T12:00:00Z');

const requestId = 'req_011CSHoEeqs5C35K2UUqR7Fy';
const jsonHeaders = { 'content-type': 'application/json', 'request-id': requestId };
const streamHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': requestId };

/** One named SSE event, as Anthropic writes them (`event:` line plus `data` with the same `type`). */
export function anthropicEvent(data: Record<string, unknown> & { type: string }): FixtureSseEvent {
  return { event: data.type, data };
}

function messageStart(usage: Record<string, unknown>): FixtureSseEvent {
  return anthropicEvent({
    type: 'message_start',
    message: {
      id: 'msg_01QC4g3HwBThD4BaNtBckFDJ',
      type: 'message',
      role: 'assistant',
      model: anthropicFixtureModel,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1, ...usage },
    },
  });
}

const textStart = (index: number) =>
  anthropicEvent({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
const textDelta = (index: number, text: string) =>
  anthropicEvent({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
const blockStop = (index: number) => anthropicEvent({ type: 'content_block_stop', index });
const messageDelta = (stopReason: string, usage: Record<string, unknown>) =>
  anthropicEvent({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage });
const messageStop = anthropicEvent({ type: 'message_stop' });
const ping = anthropicEvent({ type: 'ping' });

function message(content: unknown[], stopReason: string, usage: Record<string, unknown>) {
  return {
    id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
    type: 'message',
    role: 'assistant',
    model: anthropicFixtureModel,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...usage },
  };
}

function errorBody(type: string, text: string, details?: Record<string, unknown>) {
  return {
    type: 'error',
    error: { type, message: text, ...(details === undefined ? {} : { details }) },
    request_id: requestId,
  };
}

function failure(
  name: string,
  status: number,
  body: unknown,
  expect: ErrorScenario['expect'],
  headers: Record<string, string> = {},
): ErrorScenario {
  return { name, response: { status, headers: { ...jsonHeaders, ...headers }, body }, expect };
}

const sentHeaders = {
  'x-api-key': 'sk-ant-test',
  'anthropic-version': '2023-06-01',
  'content-type': /^application\/json/,
};

/** The complete fixture set for `runProviderContract` (deployment model `claude-sonnet-4-5`, key `sk-ant-test`). */
export const anthropicContractFixtures: ProviderContractFixtures = {
  plainText: {
    response: {
      headers: jsonHeaders,
      body: message([{ type: 'text', text: 'Hello!' }], 'end_turn', { input_tokens: 18, output_tokens: 5 }),
    },
    expect: { content: 'Hello!', finishReason: 'stop', usage: { inputTokens: 18, outputTokens: 5 } },
    sent: {
      path: '/v1/messages',
      headers: sentHeaders,
      body: {
        model: 'claude-sonnet-4-5',
        system: 'You are terse.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello.' }] }],
        max_tokens: 64,
        temperature: 0,
      },
      absentBodyFields: ['stream', 'tools', 'n'],
    },
  },

  toolCall: {
    response: {
      headers: jsonHeaders,
      body: message(
        [
          { type: 'text', text: "I'll look that up." },
          {
            type: 'tool_use',
            id: 'toolu_01A09q90qw90lq917835lq9',
            name: 'get_weather',
            input: { city: 'Paris' },
          },
        ],
        'tool_use',
        {
          input_tokens: 402,
          output_tokens: 54,
          cache_read_input_tokens: 300,
          cache_creation_input_tokens: 20,
        },
      ),
    },
    expect: {
      content: "I'll look that up.",
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      finishReason: 'tool_calls',
      // input_tokens excludes the cache buckets: 402 + 300 read + 20 written.
      usage: { inputTokens: 722, outputTokens: 54, cachedInputTokens: 300, cacheWriteTokens: 20 },
    },
    sent: {
      path: '/v1/messages',
      headers: sentHeaders,
      body: {
        model: 'claude-sonnet-4-5',
        tools: [
          {
            name: 'get_weather',
            description: 'Current weather for a city',
            input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        ],
        tool_choice: { type: 'auto' },
        max_tokens: 64,
      },
    },
  },

  // The JSON-format strategy: a forced `json_output` tool whose input is the answer.
  jsonOutput: {
    response: {
      headers: jsonHeaders,
      body: message(
        [
          {
            type: 'tool_use',
            id: 'toolu_01KFbKqPYSuAKujiL6mTfzYA',
            name: 'json_output',
            input: { name: 'Ada Lovelace', age: 36 },
          },
        ],
        'tool_use',
        {
          input_tokens: 512,
          output_tokens: 31,
        },
      ),
    },
    expect: {
      finishReason: 'stop',
      json: { name: 'Ada Lovelace', age: 36 },
      usage: { inputTokens: 512, outputTokens: 31 },
    },
    sent: {
      path: '/v1/messages',
      body: {
        tools: [
          {
            name: 'json_output',
            input_schema: {
              type: 'object',
              properties: { name: { type: 'string' }, age: { type: 'integer' } },
              required: ['name', 'age'],
              additionalProperties: false,
            },
          },
        ],
        tool_choice: { type: 'tool', name: 'json_output' },
      },
    },
  },

  streamText: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        messageStart({ input_tokens: 18 }),
        textStart(0),
        ping,
        textDelta(0, 'Hel'),
        textDelta(0, 'lo!'),
        blockStop(0),
        messageDelta('end_turn', { output_tokens: 5 }),
        messageStop,
      ],
    },
    expect: { content: 'Hello!', finishReason: 'stop', usage: { inputTokens: 18, outputTokens: 5 } },
    sent: {
      path: '/v1/messages',
      headers: sentHeaders,
      body: { model: 'claude-sonnet-4-5', stream: true, system: 'You are terse.', max_tokens: 64 },
    },
  },

  streamToolCall: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        messageStart({ input_tokens: 402 }),
        anthropicEvent({
          type: 'content_block_start',
          index: 0,
          content_block: {
            type: 'tool_use',
            id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
            name: 'get_weather',
            input: {},
          },
        }),
        anthropicEvent({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '' },
        }),
        anthropicEvent({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '{"city": ' },
        }),
        ping,
        anthropicEvent({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '"Par' },
        }),
        anthropicEvent({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: 'is"}' },
        }),
        blockStop(0),
        messageDelta('tool_use', { output_tokens: 47 }),
        messageStop,
      ],
    },
    expect: {
      content: null,
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      finishReason: 'tool_calls',
    },
    sent: { path: '/v1/messages', body: { stream: true, tool_choice: { type: 'auto' } } },
  },

  streamUsage: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        messageStart({ input_tokens: 12, cache_read_input_tokens: 2048, cache_creation_input_tokens: 100 }),
        textStart(0),
        textDelta(0, 'Hi'),
        blockStop(0),
        // message_delta usage is cumulative; newer API versions repeat the input side here.
        messageDelta('end_turn', {
          input_tokens: 12,
          cache_read_input_tokens: 2048,
          cache_creation_input_tokens: 100,
          output_tokens: 30,
        }),
        messageStop,
      ],
    },
    expect: {
      content: 'Hi',
      finishReason: 'stop',
      usage: { inputTokens: 2160, outputTokens: 30, cachedInputTokens: 2048, cacheWriteTokens: 100 },
    },
  },

  errors: {
    badRequest: failure(
      '400 invalid_request_error',
      400,
      errorBody('invalid_request_error', 'messages.0.content: text content blocks must be non-empty'),
      {
        kind: 'invalid_request',
        providerCode: 'invalid_request_error',
        upstreamType: 'invalid_request_error',
      },
    ),
    authentication: failure(
      '401 authentication_error',
      401,
      errorBody('authentication_error', 'invalid x-api-key'),
      {
        kind: 'authentication',
        retryable: false,
        providerCode: 'authentication_error',
      },
    ),
    notFound: failure('404 not_found_error', 404, errorBody('not_found_error', 'model: claude-sonnet-9'), {
      kind: 'not_found',
      providerCode: 'not_found_error',
    }),
    rateLimited: [
      failure(
        '429 rate_limit_error with retry-after',
        429,
        errorBody(
          'rate_limit_error',
          'This request would exceed the rate limit for your organization of 50 requests per minute.',
        ),
        { kind: 'rate_limited', retryAfterMs: 7000, retryable: true, providerCode: 'rate_limit_error' },
        {
          'retry-after': '7',
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': '2025-06-01T12:00:07Z',
        },
      ),
      failure(
        '429 rate_limit_error with only anthropic-ratelimit reset timestamps',
        429,
        errorBody(
          'rate_limit_error',
          'This request would exceed the rate limit for your organization of 40,000 input tokens per minute.',
        ),
        { kind: 'rate_limited', retryAfterMs: 42_000, retryable: true },
        {
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '49',
          'anthropic-ratelimit-requests-reset': '2025-06-01T12:00:01Z',
          'anthropic-ratelimit-input-tokens-limit': '40000',
          'anthropic-ratelimit-input-tokens-remaining': '0',
          'anthropic-ratelimit-input-tokens-reset': '2025-06-01T12:00:42Z',
        },
      ),
    ],
    quotaExhausted: failure(
      '429 enforced_spend_limit_reached (monthly spend cap)',
      429,
      errorBody(
        'rate_limit_error',
        'You have reached your API usage limits: your organization has crossed its monthly API usage threshold. You will regain access on 2025-07-01 at 00:00 UTC.',
        {
          error_code: 'enforced_spend_limit_reached',
        },
      ),
      {
        kind: 'quota_exhausted',
        retryable: false,
        providerCode: 'enforced_spend_limit_reached',
        upstreamCode: 'enforced_spend_limit_reached',
        upstreamType: 'rate_limit_error',
      },
    ),
    contextLengthExceeded: failure(
      '400 prompt is too long',
      400,
      errorBody('invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'),
      {
        kind: 'context_length_exceeded',
        retryable: false,
        upstreamType: 'invalid_request_error',
      },
    ),
    serverError: failure('500 api_error', 500, errorBody('api_error', 'Internal server error'), {
      kind: 'server_error',
      retryable: true,
      providerCode: 'api_error',
    }),
    overloaded: [
      failure('529 overloaded_error', 529, errorBody('overloaded_error', 'Overloaded'), {
        kind: 'overloaded',
        retryable: true,
        providerCode: 'overloaded_error',
      }),
      {
        name: '503 HTML page from a proxy',
        response: {
          status: 503,
          headers: { 'content-type': 'text/html' },
          raw: '<html><body><h1>503 Service Unavailable</h1></body></html>',
        },
        expect: { kind: 'overloaded', retryable: true },
      },
    ],
  },

  malformedJson: {
    response: {
      headers: jsonHeaders,
      raw: '{"id":"msg_01","type":"message","content":[{"type":"text","text":"Hel',
    },
  },

  streamCut: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        messageStart({ input_tokens: 18 }),
        textStart(0),
        textDelta(0, 'Once'),
        textDelta(0, ' upon'),
      ],
    },
  },

  streamMalformedChunk: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        messageStart({ input_tokens: 18 }),
        textStart(0),
        textDelta(0, 'Hel'),
        {
          event: 'content_block_delta',
          data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo',
        },
        blockStop(0),
        messageDelta('end_turn', { output_tokens: 5 }),
        messageStop,
      ],
    },
  },

  // Anthropic reports overload mid-stream as an `error` event inside the 200 response.
  streamErrorEvent: {
    response: {
      headers: streamHeaders,
      sseEvents: [
        messageStart({ input_tokens: 18 }),
        textStart(0),
        textDelta(0, 'Hel'),
        anthropicEvent({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
      ],
    },
    expect: { kind: 'overloaded', upstreamType: 'overloaded_error' },
  },
};
