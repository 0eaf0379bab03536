import type { AssistantMessage, ChatResponse, ToolCall } from '../../spec/index.ts';
import { parseWirePayload } from '../shared/index.ts';
import type { TransformContext } from '../types.ts';
import { convertOpenAIUsage } from './convert-openai-usage.ts';
import { mapOpenAIFinishReason } from './map-openai-finish-reason.ts';
import { openAIChatResponseSchema } from './openai-api-schemas.ts';

/**
 * A `chat.completion` body → the canonical response. Missing `id`/`created`/`model` are filled
 * from the context (OpenAI-compatible servers omit them), tool calls without ids get one.
 * Throws a `malformed_response` ProviderError naming the bad field.
 *
 * @example
 * const response = parseOpenAIChatResponse(await body.json(), context, 'openai');
 */
export function parseOpenAIChatResponse(
  body: unknown,
  context: TransformContext,
  provider: string,
): ChatResponse {
  const wire = parseWirePayload(openAIChatResponseSchema, body, {
    provider,
    deployment: context.deployment.id,
  });
  const response: ChatResponse = {
    id: nonEmpty(wire.id) ?? context.fallbackId,
    object: 'chat.completion',
    created: typeof wire.created === 'number' ? wire.created : context.created,
    model: nonEmpty(wire.model) ?? context.deployment.model,
    choices: wire.choices.map((choice, position) => {
      const message: AssistantMessage = { role: 'assistant', content: choice.message.content ?? null };
      const toolCalls = choice.message.tool_calls;
      if (toolCalls !== undefined && toolCalls !== null && toolCalls.length > 0) {
        message.tool_calls = toolCalls.map((call, index): ToolCall => ({
          id: nonEmpty(call.id) ?? `call_${context.fallbackId}_${index}`,
          type: 'function',
          function: {
            name: call.function.name,
            // Some servers send arguments as an object instead of a JSON string.
            arguments:
              typeof call.function.arguments === 'string'
                ? call.function.arguments
                : JSON.stringify(call.function.arguments ?? {}),
          },
        }));
      }
      if (typeof choice.message.refusal === 'string') message.refusal = choice.message.refusal;
      return {
        index: choice.index ?? position,
        message,
        finish_reason: mapOpenAIFinishReason(choice.finish_reason),
        ...(choice.logprobs === undefined || choice.logprobs === null ? {} : { logprobs: choice.logprobs }),
      };
    }),
  };
  const usage = convertOpenAIUsage(wire.usage);
  if (usage !== undefined) response.usage = usage;
  if (typeof wire.system_fingerprint === 'string') response.system_fingerprint = wire.system_fingerprint;
  return response;
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}
