import type { FinishReason } from '../../spec/index.ts';

const known = new Set<string>(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

/**
 * OpenAI's finish reasons pass; the variants OpenAI-compatible servers send are mapped
 * (`eos`, `end_turn` → stop, `max_tokens` → length, `tool_use` → tool_calls); anything else → stop.
 *
 * @example
 * mapOpenAIFinishReason('eos'); // 'stop'
 * mapOpenAIFinishReason(null); // null
 */
export function mapOpenAIFinishReason(reason: string | null | undefined): FinishReason | null {
  if (reason === null || reason === undefined || reason === '') return null;
  if (known.has(reason)) return reason as FinishReason;
  switch (reason) {
    case 'max_tokens':
    case 'model_length':
      return 'length';
    case 'tool_use':
    case 'tool_call':
      return 'tool_calls';
    case 'safety':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop';
  }
}
