import type { ChatResponse, FinishReason, ToolCall } from '../../spec/index.ts';
import type { TransformContext } from '../types.ts';
import { isRecord, parseWirePayload } from '../shared/index.ts';
import { anthropicMessageSchema } from './anthropic-api-schemas.ts';
import { anthropicProvider, jsonOutputToolName } from './anthropic-wire.ts';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.ts';
import { mapAnthropicUsage } from './map-anthropic-usage.ts';
import { createAnthropicError, readAnthropicErrorInfo } from './parse-anthropic-error.ts';

/**
 * Converts an Anthropic Messages response to a canonical chat completion: text blocks are
 * joined into the content, `tool_use` blocks become tool calls (ids kept, input serialised as
 * the arguments string), and the `json_output` tool (the adapter's JSON-format strategy)
 * becomes the content itself. Thinking and server-tool blocks are not part of the OpenAI
 * shape and are left out.
 *
 * @example
 * parseAnthropicResponse({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5',
 *   content: [{ type: 'text', text: 'Hi!' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 2 } }, context);
 * // { id: 'msg_1', object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop', … }], … }
 */
export function parseAnthropicResponse(body: unknown, context: TransformContext): ChatResponse {
  if (isRecord(body) && body.type === 'error') {
    throw createAnthropicError(readAnthropicErrorInfo(body), {
      deployment: context.deployment.id,
      inBand: 'body',
    });
  }
  const wire = parseWirePayload(anthropicMessageSchema, body, {
    provider: anthropicProvider,
    deployment: context.deployment.id,
  });

  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  let jsonOutput: string | undefined;
  for (const block of wire.content) {
    if (block.type === 'text') {
      texts.push(block.text);
    } else if (block.type === 'tool_use') {
      const input = JSON.stringify(block.input ?? {});
      if (block.name === jsonOutputToolName) jsonOutput = input;
      else
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: input } });
    }
  }

  const content = jsonOutput ?? (texts.length > 0 ? texts.join('') : null);
  let finishReason: FinishReason = mapAnthropicStopReason(wire.stop_reason);
  // The forced json_output call ends with stop_reason tool_use, but for the caller it is the answer.
  if (finishReason === 'tool_calls' && toolCalls.length === 0) finishReason = 'stop';

  const message: ChatResponse['choices'][number]['message'] = { role: 'assistant', content };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: nonEmpty(wire.id) ?? context.fallbackId,
    object: 'chat.completion',
    created: context.created,
    model: nonEmpty(wire.model) ?? context.deployment.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: mapAnthropicUsage(wire.usage),
  };
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}
