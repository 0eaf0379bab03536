import type { FinishReason } from '../../spec/index.ts';

// Every reason Gemini gives for stopping because a safety or policy check blocked the output.
const filteredReasons = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Maps a Gemini `finishReason` to the OpenAI `finish_reason`. Gemini says STOP after function
 * calls too, so a candidate that called functions finishes with `tool_calls`. Other reasons
 * (LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL, unknown future values) map to `stop`.
 *
 * @example
 * mapGeminiFinishReason('MAX_TOKENS', false); // 'length'
 * mapGeminiFinishReason('STOP', true); // 'tool_calls'
 */
export function mapGeminiFinishReason(finishReason: unknown, hasToolCalls: boolean): FinishReason {
  if (typeof finishReason === 'string' && filteredReasons.has(finishReason)) return 'content_filter';
  if (finishReason === 'MAX_TOKENS') return 'length';
  return hasToolCalls ? 'tool_calls' : 'stop';
}
