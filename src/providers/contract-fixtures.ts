import type { ProviderErrorKind } from '../core/index.ts';
import type { ChatRequest, FinishReason } from '../spec/index.ts';
import type { Deployment, ProviderAdapter } from './types.ts';

/**
 * Recorded wire fixtures for the provider contract suite (`runProviderContract` in
 * `./provider-contract.ts`). Each scenario says what the fake upstream answers and what the
 * canonical result must be; the canonical requests the suite sends are fixed
 * ({@link contractRequests}), so fixtures only describe the provider's side.
 *
 * @example
 * // src/providers/anthropic/anthropic.contract.test.ts
 * import { runProviderContract } from '../provider-contract.ts';
 * import { anthropicContractFixtures } from './__fixtures__/anthropic-contract-fixtures.ts';
 *
 * runProviderContract({
 *   name: 'anthropic',
 *   createDeployment: (origin) => ({ id: 'contract-anthropic', provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: `${origin}/v1`, apiKey: 'sk-ant-test' }),
 *   fixtures: anthropicContractFixtures,
 * });
 *
 * // One scenario, as it appears in the fixtures object:
 * const streamText: StreamScenario = {
 *   response: {
 *     headers: { 'content-type': 'text/event-stream' },
 *     sseEvents: [
 *       { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_1', model: 'claude-sonnet-4-5', usage: { input_tokens: 12, output_tokens: 1 } } } },
 *       { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } } },
 *       { event: 'message_stop', data: { type: 'message_stop' } },
 *     ],
 *   },
 *   expect: { content: 'Hello', finishReason: 'stop' },
 *   sent: { path: '/v1/messages', headers: { 'x-api-key': 'sk-ant-test' }, body: { model: 'claude-sonnet-4-5', stream: true } },
 * };
 */

/** One server-sent event the fake upstream writes. An object `data` is JSON-encoded; a string is written as is. */
export interface FixtureSseEvent {
  event?: string;
  data: string | Record<string, unknown> | unknown[];
}

/** What the fake upstream answers. Exactly one of `body`, `sseEvents`, `raw` (or none for an empty body). */
export interface FixtureResponse {
  /** Default 200. */
  status?: number;
  /** Response headers. `content-type` defaults to application/json for `body`, text/event-stream for `sseEvents`. */
  headers?: Record<string, string>;
  /** A JSON body. */
  body?: unknown;
  /** An SSE body: each event written as `event: …\ndata: …\n\n`. */
  sseEvents?: FixtureSseEvent[];
  /** A body written byte for byte (malformed JSON, HTML from a proxy). */
  raw?: string;
}

/** What the adapter must have sent upstream. */
export interface SentRequestExpectation {
  /** Default POST. */
  method?: 'POST' | 'GET';
  /** Path and query exactly as received, e.g. `/v1/chat/completions` or `/v1beta/models/m:streamGenerateContent?alt=sse`. */
  path: string;
  /** Header values (lowercase names) that must match exactly, or match the RegExp. */
  headers?: Record<string, string | RegExp>;
  /** Headers that must not be sent (e.g. `authorization` for Azure, which uses `api-key`). */
  absentHeaders?: string[];
  /** A partial deep match of the JSON body: every key given must match; arrays must match element by element. */
  body?: Record<string, unknown>;
  /** Top-level body fields that must be absent. */
  absentBodyFields?: string[];
}

/** Normalised token counts the canonical usage must show (see `normalizeUsage`). Omitted fields are not checked. */
export interface UsageExpectation {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

export interface ToolCallExpectation {
  name: string;
  /** The arguments, parsed from their JSON string. */
  arguments: unknown;
}

/** The canonical result expected from a chat or a (reassembled) stream. */
export interface ChatExpectation {
  /** The assistant text; `null` when the answer is only tool calls. Omitted: not checked. */
  content?: string | null;
  toolCalls?: ToolCallExpectation[];
  finishReason: FinishReason;
  usage?: UsageExpectation;
  /** For the JSON-output scenario: the parsed content must deep-equal this. */
  json?: unknown;
}

export interface ChatScenario {
  response: FixtureResponse;
  expect: ChatExpectation;
  /** Checked for the plain text and tool-call scenarios (mandatory there). */
  sent?: SentRequestExpectation;
}

export interface StreamScenario {
  response: FixtureResponse;
  expect: ChatExpectation;
  /** Checked for the stream-of-text scenario (mandatory there). */
  sent?: SentRequestExpectation;
}

export interface ErrorScenario {
  /** Shown in the test name, e.g. `429 with retry-after-ms`. */
  name: string;
  response: FixtureResponse;
  expect: {
    kind: ProviderErrorKind;
    /** The retry hint in ms, when the response carries one. */
    retryAfterMs?: number;
    /** Allowed difference from `retryAfterMs` (HTTP-date hints shrink as time passes). Default 0. */
    retryAfterToleranceMs?: number;
    /** Defaults to the kind's retryability from the error-code registry. */
    retryable?: boolean;
    providerCode?: string;
    /** The upstream's own error code as sent (OpenAI `error.code`, Gemini `error.status`). */
    upstreamCode?: string;
    /** The upstream's own error type as sent (OpenAI and Anthropic `error.type`). */
    upstreamType?: string;
    /** OpenAI's `error.param` as sent; `null` checks that a param sent as null stays null. */
    upstreamParam?: string | null;
    /** Text the error message must not contain: a key (or masked key) the upstream echoed. */
    messageExcludes?: string[];
  };
}

/** A stream fixture that fails: the expected error kind is fixed by the scenario. */
export interface FailingStreamScenario {
  response: FixtureResponse;
}

/** Everything a provider must supply; every scenario is mandatory unless marked optional. */
export interface ProviderContractFixtures {
  plainText: ChatScenario & { sent: SentRequestExpectation };
  toolCall: ChatScenario & { sent: SentRequestExpectation };
  /** The `contractRequests.jsonOutput` request (response_format json_schema); `expect.json` is the parsed content. */
  jsonOutput: ChatScenario & { expect: ChatExpectation & { json: unknown } };
  streamText: StreamScenario & { sent: SentRequestExpectation };
  /** Tool-call arguments split over several events; the suite checks the first fragment per index has id + name. */
  /**
   * `wholeArguments`: the provider sends each tool call whole in one event (Gemini does); the
   * suite then checks the single fragment carries id, name and complete arguments instead of
   * requiring the arguments to be split.
   */
  streamToolCall: StreamScenario & { sent?: SentRequestExpectation; wholeArguments?: boolean };
  /** A stream whose final usage must be captured. */
  streamUsage: StreamScenario & { expect: ChatExpectation & { usage: UsageExpectation } };
  errors: {
    badRequest: ErrorScenario;
    authentication: ErrorScenario;
    notFound: ErrorScenario;
    /** One per retry-header variant the provider uses. */
    rateLimited: ErrorScenario[];
    quotaExhausted: ErrorScenario;
    contextLengthExceeded: ErrorScenario;
    serverError: ErrorScenario;
    /** 503 and/or 529. */
    overloaded: ErrorScenario[];
    contentFiltered?: ErrorScenario;
  };
  /** A 200 whose body is not JSON → `malformed_response`. */
  malformedJson: FailingStreamScenario;
  /**
   * A stream that stops before its terminator (at least one content event, no end marker).
   * The suite serves it twice: body ended cleanly, and socket destroyed → `stream_cut` both times.
   * It is also the prefix served, then held open, for the abort scenario.
   */
  streamCut: FailingStreamScenario;
  /** A stream with an unparseable chunk after at least one good one → `malformed_response`. */
  streamMalformedChunk: FailingStreamScenario;
  /** Optional: an error object inside a 200 stream (Azure, Anthropic `error` events). */
  streamErrorEvent?: {
    response: FixtureResponse;
    expect: Pick<ErrorScenario['expect'], 'kind' | 'upstreamCode' | 'upstreamType' | 'upstreamParam'>;
  };
}

export interface ProviderContractOptions {
  /** The suite name, e.g. `openai`. */
  name: string;
  /** A deployment pointing at the fake upstream (`origin` is `http://127.0.0.1:PORT`, no trailing slash). */
  createDeployment(origin: string): Deployment;
  fixtures: ProviderContractFixtures;
  /** The adapter under test; by default the registry picks one for the deployment. */
  adapter?: ProviderAdapter;
}

const contractModel = 'contract-model';

/** The canonical requests the suite sends; fixtures describe the upstream's answer to them. */
export const contractRequests: Record<'plainText' | 'toolCall' | 'jsonOutput', ChatRequest> = {
  /** Used by plainText (chat) and streamText / streamUsage / streamCut / streamMalformedChunk (chatStream). */
  plainText: {
    model: contractModel,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say hello.' },
    ],
    max_tokens: 64,
    temperature: 0,
  },
  /** Used by toolCall (chat) and streamToolCall (chatStream). */
  toolCall: {
    model: contractModel,
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
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
    max_tokens: 64,
  },
  /** Used by jsonOutput (chat). */
  jsonOutput: {
    model: contractModel,
    messages: [{ role: 'user', content: 'Give me a person as JSON.' }],
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'person',
        strict: true,
        schema: {
          type: 'object',
          properties: { name: { type: 'string' }, age: { type: 'integer' } },
          required: ['name', 'age'],
          additionalProperties: false,
        },
      },
    },
    max_tokens: 64,
  },
};
