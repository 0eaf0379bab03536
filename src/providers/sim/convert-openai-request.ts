import { InvalidRequestError } from '../../core/index.ts';
import {
  parseChatRequest,
  parseEmbeddingsRequest,
  parseImagesRequest,
  type ChatMessage,
  type EmbeddingsRequest,
  type ImagesRequest,
} from '../../spec/index.ts';
import type { SimMessage, SimPrompt, SimToolChoice } from './sim-prompt.ts';

export interface OpenAIChatInput {
  prompt: SimPrompt;
  stream: boolean;
  includeUsage: boolean;
}

/**
 * An OpenAI Chat Completions body → a SimPrompt. Validation errors (InvalidRequestError) name
 * the field, as OpenAI's `param` does. `model` overrides the body's (Azure puts it in the URL).
 */
export function convertOpenAIChatRequest(body: unknown, model?: string): OpenAIChatInput {
  const withModel =
    model !== undefined && isRecord(body) && body['model'] === undefined ? { ...body, model } : body;
  const request = parseChatRequest(withModel);
  const system: string[] = [];
  const messages: SimMessage[] = [];
  const toolNames = new Map<string, string>();
  for (const message of request.messages) convertMessage(message, system, messages, toolNames);
  const output: SimPrompt['output'] =
    request.response_format?.type === 'json_object'
      ? { type: 'json' }
      : request.response_format?.type === 'json_schema'
        ? { type: 'json_schema', schema: request.response_format.json_schema.schema ?? {} }
        : { type: 'text' };
  if (output.type === 'json' && !/json/i.test(JSON.stringify(request.messages))) {
    throw new InvalidRequestError({
      message:
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      param: 'messages',
    });
  }
  const stop =
    request.stop === undefined || request.stop === null
      ? []
      : typeof request.stop === 'string'
        ? [request.stop]
        : request.stop;
  const prompt: SimPrompt = {
    model: model ?? request.model,
    system: system.join('\n'),
    messages,
    tools: (request.tools ?? []).map((tool) => ({
      name: tool.function.name,
      description: tool.function.description ?? '',
      parameters: tool.function.parameters ?? { type: 'object', properties: {} },
    })),
    toolChoice: convertToolChoice(request.tool_choice),
    output,
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    stop,
    n: request.n ?? 1,
  };
  return {
    prompt,
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
  };
}

function convertMessage(
  message: ChatMessage,
  system: string[],
  messages: SimMessage[],
  toolNames: Map<string, string>,
): void {
  switch (message.role) {
    case 'system':
    case 'developer':
      system.push(textOf(message.content));
      return;
    case 'user': {
      const parts = typeof message.content === 'string' ? [] : message.content;
      messages.push({
        role: 'user',
        text: textOf(message.content),
        imageCount: parts.filter((part) => part.type === 'image_url').length,
        toolCalls: [],
        toolResults: [],
      });
      return;
    }
    case 'assistant': {
      const toolCalls = (message.tool_calls ?? []).map((call) => ({
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      }));
      for (const call of toolCalls) toolNames.set(call.id, call.name);
      messages.push({
        role: 'assistant',
        text: textOf(message.content ?? ''),
        imageCount: 0,
        toolCalls,
        toolResults: [],
      });
      return;
    }
    case 'tool':
      messages.push({
        role: 'tool',
        text: '',
        imageCount: 0,
        toolCalls: [],
        toolResults: [
          {
            callId: message.tool_call_id,
            name: toolNames.get(message.tool_call_id) ?? 'the tool',
            content: textOf(message.content),
          },
        ],
      });
      return;
  }
}

function convertToolChoice(choice: ReturnType<typeof parseChatRequest>['tool_choice']): SimToolChoice {
  if (choice === undefined || choice === 'auto') return { mode: 'auto' };
  if (choice === 'none' || choice === 'required') return { mode: choice };
  return { mode: 'named', name: choice.function.name };
}

function textOf(content: string | null | ReadonlyArray<{ type: string; text?: string }>): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part) => (part.type === 'text' ? (part.text ?? '') : ''))
    .filter((text) => text !== '')
    .join('\n');
}

/** The texts of an embeddings request (token-id inputs become placeholder words). */
export function convertOpenAIEmbeddingsRequest(
  body: unknown,
  model?: string,
): { request: EmbeddingsRequest; texts: string[] } {
  const withModel =
    model !== undefined && isRecord(body) && body['model'] === undefined ? { ...body, model } : body;
  const request = parseEmbeddingsRequest(withModel);
  const input = request.input;
  let texts: string[];
  if (typeof input === 'string') texts = [input];
  else if (input.every((item) => typeof item === 'string')) texts = input;
  else if (input.every((item) => typeof item === 'number')) texts = [input.map((id) => `t${id}`).join(' ')];
  else
    texts = input.map((item) => (Array.isArray(item) ? item.map((id) => `t${id}`).join(' ') : String(item)));
  return { request, texts };
}

/** An images request, validated. */
export function convertOpenAIImagesRequest(body: unknown, model?: string): ImagesRequest {
  const withModel =
    model !== undefined && isRecord(body) && body['model'] === undefined ? { ...body, model } : body;
  return parseImagesRequest(withModel);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
