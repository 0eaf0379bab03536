import { z } from 'zod';
import { parseWithSchema } from './validation.ts';

/**
 * Canonical chat types: the OpenAI Chat Completions shape, the lingua franca every adapter
 * converts to and from. Unknown fields are kept (`loose`) so provider-specific options pass
 * through to OpenAI-compatible upstreams untouched.
 */

export const textPartSchema = z.object({ type: z.literal('text'), text: z.string() });

export const imagePartSchema = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    /** An https URL or a `data:image/png;base64,…` URL. */
    url: z.string().refine((url) => /^(https?:\/\/|data:image\/[a-z0-9.+-]+;base64,)/i.test(url), {
      message: 'must be an http(s) URL or a data:image/...;base64, URL',
    }),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
});

export const contentPartSchema = z.discriminatedUnion('type', [textPartSchema, imagePartSchema]);

const toolCallSchema = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

export const chatMessageSchema = z.discriminatedUnion('role', [
  z.looseObject({
    role: z.literal('system'),
    content: z.union([z.string(), z.array(textPartSchema)]),
    name: z.string().optional(),
  }),
  z.looseObject({
    role: z.literal('developer'),
    content: z.union([z.string(), z.array(textPartSchema)]),
    name: z.string().optional(),
  }),
  z.looseObject({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(contentPartSchema).min(1)]),
    name: z.string().optional(),
  }),
  z.looseObject({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(textPartSchema), z.null()]).optional(),
    tool_calls: z.array(toolCallSchema).optional(),
    name: z.string().optional(),
    refusal: z.string().nullable().optional(),
  }),
  z.looseObject({
    role: z.literal('tool'),
    content: z.union([z.string(), z.array(textPartSchema)]),
    tool_call_id: z.string().min(1),
  }),
]);

export const toolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
]);

export const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

/**
 * The most output tokens one request may ask for. No model writes more than a few hundred
 * thousand (128k is the largest output limit today); a larger value is a typo or an attack
 * on the bill (and on budget reservations, which are sized by it), refused before any call.
 */
export const maxOutputTokens = 1_000_000;
const outputTokensMessage = `must be at most ${maxOutputTokens}`;

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1, 'must be a non-empty string'),
  messages: z.array(chatMessageSchema).min(1, 'must contain at least one message'),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: responseFormatSchema.optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  max_tokens: z.number().int().positive().max(maxOutputTokens, outputTokensMessage).nullable().optional(),
  max_completion_tokens: z
    .number()
    .int()
    .positive()
    .max(maxOutputTokens, outputTokensMessage)
    .nullable()
    .optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  seed: z.number().int().nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  user: z.string().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

export type TextPart = z.infer<typeof textPartSchema>;
export type ImagePart = z.infer<typeof imagePartSchema>;
export type ContentPart = z.infer<typeof contentPartSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ToolDefinition = z.infer<typeof toolSchema>;
export type ToolChoice = z.infer<typeof toolChoiceSchema>;
export type ResponseFormat = z.infer<typeof responseFormatSchema>;
export type ToolCall = z.infer<typeof toolCallSchema>;
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Validates an unknown value as a chat request; throws InvalidRequestError naming the field. */
export function parseChatRequest(value: unknown): ChatRequest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return parseWithSchema(chatRequestSchema, value, { what: 'body' });
  }
  return parseWithSchema(chatRequestSchema, value);
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** Usage in the OpenAI shape: `prompt_tokens` includes cached tokens. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export interface AssistantMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
}

export interface ChatChoice {
  index: number;
  message: AssistantMessage;
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage;
  system_fingerprint?: string | null;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkChoice {
  index: number;
  delta: {
    role?: 'assistant';
    content?: string | null;
    tool_calls?: ToolCallDelta[];
    refusal?: string | null;
  };
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

/** One `chat.completion.chunk`: the canonical stream part. */
export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
  system_fingerprint?: string | null;
}
