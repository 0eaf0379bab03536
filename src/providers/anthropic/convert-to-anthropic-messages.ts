import { InvalidRequestError } from '../../core/index.ts';
import type { ChatMessage, ContentPart, TextPart, ToolCall } from '../../spec/index.ts';
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicTextBlock,
  AnthropicToolResultBlock,
  AnthropicToolUseBlock,
} from './anthropic-wire.ts';

export interface AnthropicPrompt {
  system?: string | AnthropicTextBlock[];
  messages: AnthropicMessage[];
}

// The image types the Messages API accepts as base64 sources.
const supportedImageTypes = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/**
 * Converts canonical messages to Anthropic's prompt: system and developer messages move to
 * the top-level `system`; tool results become `tool_result` blocks in a user turn; and
 * consecutive turns of the same role are merged, because the Messages API requires user and
 * assistant turns to alternate.
 *
 * @example
 * convertToAnthropicMessages([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
 * // { system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] }
 */
export function convertToAnthropicMessages(messages: readonly ChatMessage[]): AnthropicPrompt {
  const system: AnthropicTextBlock[] = [];
  const turns: AnthropicMessage[] = [];

  const append = (role: AnthropicMessage['role'], blocks: AnthropicContentBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };

  messages.forEach((message, messageIndex) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...toTextBlocks(message.content));
        break;
      case 'user':
        append('user', convertUserContent(message.content, messageIndex));
        break;
      case 'assistant':
        append('assistant', [
          ...(message.content === null || message.content === undefined ? [] : toTextBlocks(message.content)),
          ...(message.tool_calls ?? []).map((call, callIndex) =>
            convertToolCall(call, messageIndex, callIndex),
          ),
        ]);
        break;
      case 'tool':
        append('user', [convertToolResult(message.tool_call_id, message.content)]);
        break;
    }
  });

  trimFinalAssistantText(turns);

  const prompt: AnthropicPrompt = { messages: turns };
  if (system.length === 1 && system[0] !== undefined) prompt.system = system[0].text;
  else if (system.length > 1) prompt.system = system;
  return prompt;
}

/** Text content as text blocks, leaving out empty strings (the API rejects empty text blocks). */
function toTextBlocks(content: string | readonly TextPart[]): AnthropicTextBlock[] {
  const texts = typeof content === 'string' ? [content] : content.map((part) => part.text);
  return texts.filter((text) => text !== '').map((text) => ({ type: 'text', text }));
}

function convertUserContent(
  content: string | readonly ContentPart[],
  messageIndex: number,
): AnthropicContentBlock[] {
  // A user turn keeps an empty string as is: dropping it could leave no user turn at all, and
  // the upstream's own error then names the field.
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part, partIndex): AnthropicContentBlock => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    return convertImage(part.image_url.url, `messages[${messageIndex}].content[${partIndex}].image_url.url`);
  });
}

function convertImage(url: string, param: string): AnthropicImageBlock {
  const dataUrl = /^data:([^;,]+);base64,(.*)$/is.exec(url);
  if (dataUrl === null) return { type: 'image', source: { type: 'url', url } };
  const mediaType = (dataUrl[1] ?? '').toLowerCase();
  if (!supportedImageTypes.has(mediaType)) {
    throw new InvalidRequestError({
      message: `${param}: anthropic accepts image/jpeg, image/png, image/gif or image/webp, not ${mediaType}`,
      param,
    });
  }
  return { type: 'image', source: { type: 'base64', media_type: mediaType, data: dataUrl[2] ?? '' } };
}

function convertToolCall(call: ToolCall, messageIndex: number, callIndex: number): AnthropicToolUseBlock {
  const param = `messages[${messageIndex}].tool_calls[${callIndex}].function.arguments`;
  const text = call.function.arguments.trim();
  let input: unknown = {};
  if (text !== '') {
    try {
      input = JSON.parse(text);
    } catch {
      throw new InvalidRequestError({
        message: `${param}: must be valid JSON (anthropic needs the tool input as an object)`,
        param,
      });
    }
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidRequestError({
      message: `${param}: must be a JSON object (anthropic needs the tool input as an object)`,
      param,
    });
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input: input as Record<string, unknown> };
}

function convertToolResult(
  toolCallId: string,
  content: string | readonly TextPart[],
): AnthropicToolResultBlock {
  if (typeof content === 'string') return { type: 'tool_result', tool_use_id: toolCallId, content };
  return { type: 'tool_result', tool_use_id: toolCallId, content: toTextBlocks(content) };
}

/**
 * A final assistant turn is a prefill the model continues; the API rejects one that ends in
 * whitespace, so the trailing whitespace is trimmed (and a block left empty is dropped).
 */
function trimFinalAssistantText(turns: AnthropicMessage[]): void {
  const last = turns.at(-1);
  if (last?.role !== 'assistant') return;
  const block = last.content.at(-1);
  if (block?.type !== 'text') return;
  block.text = block.text.trimEnd();
  if (block.text === '') last.content.pop();
  if (last.content.length === 0) turns.pop();
}
