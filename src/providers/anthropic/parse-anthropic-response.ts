import { ProviderError } from '../../core/index.ts';
import type { ChatResponse, FinishReason, ToolCall } from '../../spec/index.ts';
import type { TransformContext } from '../types.ts';
import { createMalformedResponseError, isRecord } from '../shared/index.ts';
import { anthropicProvider, jsonOutputToolName } from './anthropic-wire.ts';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.ts';
import { mapAnthropicUsage } from './map-anthropic-usage.ts';
import { classifyAnthropicError, readAnthropicErrorInfo } from './parse-anthropic-error.ts';

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
  const source = { provider: anthropicProvider, deployment: context.deployment.id };
  if (isRecord(body) && body.type === 'error') {
    const info = readAnthropicErrorInfo(body);
    throw new ProviderError({
      kind: classifyAnthropicError(info, undefined),
      message: `anthropic ${info.type ?? 'error'}: ${info.message ?? 'error in a successful response'}`,
      provider: anthropicProvider,
      deployment: context.deployment.id,
      ...(info.type === undefined ? {} : { providerCode: info.type }),
      ...(info.requestId === undefined ? {} : { requestId: info.requestId }),
    });
  }
  if (!isRecord(body)) throw createMalformedResponseError(source, 'expected a JSON object');
  if (!Array.isArray(body.content))
    throw createMalformedResponseError(source, 'content: expected an array of blocks');

  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  let jsonOutput: string | undefined;
  body.content.forEach((block: unknown, index) => {
    if (!isRecord(block)) throw createMalformedResponseError(source, `content[${index}]: expected an object`);
    if (block.type === 'text') {
      if (typeof block.text !== 'string')
        throw createMalformedResponseError(source, `content[${index}].text: expected a string`);
      texts.push(block.text);
    } else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw createMalformedResponseError(
          source,
          `content[${index}]: a tool_use block needs an id and a name`,
        );
      }
      const input = JSON.stringify(block.input ?? {});
      if (block.name === jsonOutputToolName) jsonOutput = input;
      else
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: input } });
    }
  });

  const content = jsonOutput ?? (texts.length > 0 ? texts.join('') : null);
  let finishReason: FinishReason = mapAnthropicStopReason(body.stop_reason);
  // The forced json_output call ends with stop_reason tool_use, but for the caller it is the answer.
  if (finishReason === 'tool_calls' && toolCalls.length === 0) finishReason = 'stop';

  const message: ChatResponse['choices'][number]['message'] = { role: 'assistant', content };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: typeof body.id === 'string' && body.id !== '' ? body.id : context.fallbackId,
    object: 'chat.completion',
    created: context.created,
    model: typeof body.model === 'string' && body.model !== '' ? body.model : context.deployment.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: mapAnthropicUsage(body.usage),
  };
}
