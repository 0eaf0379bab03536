import { InvalidRequestError } from '../../core/index.ts';
import type { ChatMessage, ContentPart, TextPart } from '../../spec/index.ts';
import type { GeminiContent, GeminiPart } from './gemini-wire.ts';

export interface GeminiPrompt {
  systemInstruction?: { parts: Array<{ text: string }> };
  contents: GeminiContent[];
}

/**
 * Gemini 3 models reject a replayed `functionCall` part without the `thoughtSignature` the
 * model attached to it. The OpenAI shape has no place to carry that opaque signature through
 * a client, so replayed calls carry Google's documented placeholder that skips the check
 * (https://ai.google.dev/gemini-api/docs/thought-signatures); the cost is that the model does
 * not see its earlier reasoning.
 */
export const skipThoughtSignature = 'skip_thought_signature_validator';

const imageTypesByExtension: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

/**
 * Converts canonical messages to Gemini `contents` (roles `user` and `model`) and a
 * `systemInstruction` (system and developer messages). Images become `inlineData` (data URLs)
 * or `fileData` (http URLs); assistant tool calls become `functionCall` parts; tool messages
 * become `functionResponse` parts named after the matching earlier tool call. Consecutive
 * contents of one role are merged, so parallel function responses travel in one turn.
 *
 * @example
 * convertToGeminiContents([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], 'gemini-2.5-flash');
 * // { systemInstruction: { parts: [{ text: 'Be brief.' }] }, contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }
 */
export function convertToGeminiContents(messages: readonly ChatMessage[], model: string): GeminiPrompt {
  const system: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];
  const needsSignature = requiresThoughtSignature(model);

  const append = (role: GeminiContent['role'], parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((message, messageIndex) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...toTextParts(message.content));
        break;
      case 'user':
        append('user', convertUserContent(message.content, messageIndex));
        break;
      case 'assistant': {
        const parts: GeminiPart[] =
          message.content === null || message.content === undefined ? [] : toTextParts(message.content);
        (message.tool_calls ?? []).forEach((call, callIndex) => {
          const functionCall = {
            name: call.function.name,
            args: parseArguments(call.function.arguments, messageIndex, callIndex),
          };
          // Only the first call of a turn carries a signature (parallel calls share it).
          parts.push(
            needsSignature && callIndex === 0
              ? { functionCall, thoughtSignature: skipThoughtSignature }
              : { functionCall },
          );
        });
        append('model', parts);
        break;
      }
      case 'tool':
        append('user', [
          {
            functionResponse: {
              name: findFunctionName(messages, messageIndex, message.tool_call_id),
              response: { output: readToolOutput(message.content) },
            },
          },
        ]);
        break;
    }
  });

  const prompt: GeminiPrompt = { contents };
  if (system.length > 0) prompt.systemInstruction = { parts: system };
  return prompt;
}

/** Gemini 1.x and 2.x do not check signatures; newer models (and unversioned aliases) may. */
function requiresThoughtSignature(model: string): boolean {
  const version = /gemini-(\d+)(?:[.-]|$)/.exec(model)?.[1];
  return version === undefined || Number(version) >= 3;
}

function toTextParts(content: string | readonly TextPart[]): Array<{ text: string }> {
  const texts = typeof content === 'string' ? [content] : content.map((part) => part.text);
  return texts.filter((text) => text !== '').map((text) => ({ text }));
}

function convertUserContent(content: string | readonly ContentPart[], messageIndex: number): GeminiPart[] {
  if (typeof content === 'string') return [{ text: content }];
  return content.map((part, partIndex): GeminiPart => {
    if (part.type === 'text') return { text: part.text };
    return convertImage(part.image_url.url, `messages[${messageIndex}].content[${partIndex}].image_url.url`);
  });
}

function convertImage(url: string, param: string): GeminiPart {
  const dataUrl = /^data:([^;,]+);base64,(.*)$/is.exec(url);
  if (dataUrl !== null) {
    const data = dataUrl[2] ?? '';
    if (data === '') throw new InvalidRequestError({ message: `${param}: the data URL has no data`, param });
    return { inlineData: { mimeType: (dataUrl[1] ?? '').toLowerCase(), data } };
  }
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  const mimeType = extension === undefined ? undefined : imageTypesByExtension[extension];
  return { fileData: mimeType === undefined ? { fileUri: url } : { fileUri: url, mimeType } };
}

function parseArguments(text: string, messageIndex: number, callIndex: number): Record<string, unknown> {
  const param = `messages[${messageIndex}].tool_calls[${callIndex}].function.arguments`;
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidRequestError({
      message: `${param}: must be valid JSON (gemini needs the call arguments as an object)`,
      param,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidRequestError({
      message: `${param}: must be a JSON object (gemini needs the call arguments as an object)`,
      param,
    });
  }
  return value as Record<string, unknown>;
}

/** Gemini names function responses, OpenAI links them by id: the name comes from the earlier call. */
function findFunctionName(messages: readonly ChatMessage[], toolIndex: number, toolCallId: string): string {
  for (let index = toolIndex - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role !== 'assistant') continue;
    const call = message.tool_calls?.find((candidate) => candidate.id === toolCallId);
    if (call !== undefined) return call.function.name;
  }
  const param = `messages[${toolIndex}].tool_call_id`;
  throw new InvalidRequestError({
    message: `${param}: '${toolCallId}' matches no tool call of an earlier assistant message`,
    param,
  });
}

/** Tool output as a JSON value when it is JSON (Gemini sees structure), else as the text. */
function readToolOutput(content: string | readonly TextPart[]): unknown {
  const text = typeof content === 'string' ? content : content.map((part) => part.text).join('');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
