/**
 * Helpers for the sim's own tests (not exported from index.ts): a recording fake clock,
 * JSON posting and SSE reading with eventsource-parser, the way a real client reads streams.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Clock } from '../../core/index.ts';

/** A clock whose sleeps return at once, moving time forward, and are recorded. */
export interface FakeClock extends Clock {
  sleeps: number[];
  advance(ms: number): void;
}

export function createFakeClock(start = Date.UTC(2026, 0, 15, 12, 0, 0)): FakeClock {
  let now = start;
  let monotonic = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    monotonic: () => monotonic,
    advance(ms) {
      now += ms;
      monotonic += ms;
    },
    async sleep(ms, signal) {
      sleeps.push(ms);
      if (signal?.aborted === true) throw signal.reason;
      now += ms;
      monotonic += ms;
    },
  };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Every event of an SSE response, in order. */
export async function readSse(response: Response): Promise<EventSourceMessage[]> {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  const decoder = new TextDecoder();
  if (response.body === null) return events;
  for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
  return events;
}

export const openAIHeaders = { authorization: 'Bearer sk-sim-test' };
export const anthropicHeaders = { 'x-api-key': 'sk-ant-sim', 'anthropic-version': '2023-06-01' };
export const geminiHeaders = { 'x-goog-api-key': 'AIza-sim' };

/** A schema-valid test tool set: one weather tool, one email tool. */
export const weatherTools = [
  {
    name: 'get_weather',
    description: 'Get the current weather forecast for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
        options: {
          type: 'object',
          properties: {
            alerts: { type: 'boolean' },
            tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
          },
          required: ['alerts', 'tags'],
        },
      },
      required: ['city', 'unit', 'options'],
      additionalProperties: false,
    },
  },
  {
    name: 'send_email',
    description: 'Send an email message to a recipient',
    parameters: {
      type: 'object',
      properties: { to: { type: 'string', format: 'email' }, body: { type: 'string' } },
      required: ['to', 'body'],
    },
  },
];

/** The body of a response, typed as the test expects it (the assertions check it). */
export async function readJson<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export interface OpenAIToolCall {
  id?: string;
  index?: number;
  type?: string;
  function: { name?: string; arguments: string };
}

export interface OpenAIChatBody {
  id: string;
  object: string;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    message: { role: string; content: string | null; tool_calls?: OpenAIToolCall[] };
    finish_reason: string;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export interface OpenAIChunk {
  object: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    delta: { role?: string; content?: string | null; tool_calls?: OpenAIToolCall[] };
    finish_reason: string | null;
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string | null; param: string | null; code: string | null };
}

export interface AnthropicContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
}

export interface AnthropicMessageBody {
  id: string;
  type: string;
  role: string;
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: string;
  stop_sequence: string | null;
  usage: { input_tokens: number; output_tokens: number };
}

/** Any Anthropic stream event, with the fields the tests read. */
export interface AnthropicEvent {
  type: string;
  index?: number;
  message?: AnthropicMessageBody;
  content_block?: AnthropicContentBlock;
  delta?: {
    type?: string;
    text?: string;
    partial_json?: string;
    stop_reason?: string;
    stop_sequence?: string | null;
  };
  usage?: { output_tokens: number };
  error?: { type: string; message: string; details?: Record<string, unknown> };
}

export interface GeminiPart {
  text?: string;
  functionCall?: { name: string; args: Record<string, unknown> };
}

export interface GeminiBody {
  candidates?: Array<{
    content?: { role: string; parts: GeminiPart[] };
    finishReason?: string;
    index: number;
  }>;
  promptFeedback?: { blockReason: string };
  usageMetadata: { promptTokenCount: number; candidatesTokenCount?: number; totalTokenCount: number };
  modelVersion: string;
  responseId: string;
}

export interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: Array<Record<string, unknown>> };
}
