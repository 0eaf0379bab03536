import { countTokens, decode, encode } from 'gpt-tokenizer';
import type { SimPrompt } from './sim-prompt.ts';

/** Images count at a fixed cost (OpenAI's price of a low-detail image). */
export const imageTokenCost = 85;

// Special-token text in a prompt (`<|endoftext|>`) is ordinary text to the sim, never an error.
const plainText = { disallowedSpecial: new Set<string>() };

/** Tokens of a text with the o200k encoding. */
export function countTextTokens(text: string): number {
  return text === '' ? 0 : countTokens(text, plainText);
}

/** The longest prefix of `text` that fits in `maxTokens` tokens. */
export function truncateToTokens(text: string, maxTokens: number): string {
  const tokens = encode(text, plainText);
  if (tokens.length <= maxTokens) return text;
  return decode(tokens.slice(0, maxTokens));
}

/**
 * Input tokens of a prompt, counted the way chat models bill them: the text of every turn,
 * a few tokens of framing per message, tool definitions, and a fixed cost per image.
 */
export function countPromptTokens(prompt: SimPrompt): number {
  let text = prompt.system;
  let total = prompt.system === '' ? 3 : 7;
  for (const message of prompt.messages) {
    total += 4 + message.imageCount * imageTokenCost;
    text += `\n${message.text}`;
    for (const call of message.toolCalls) text += `\n${call.name} ${call.arguments}`;
    for (const result of message.toolResults) text += `\n${result.content}`;
  }
  if (prompt.tools.length > 0) text += `\n${JSON.stringify(prompt.tools)}`;
  return total + countTextTokens(text);
}
