import type { FinishReason } from '../../spec/index.ts';

/**
 * Maps Anthropic's `stop_reason` to the OpenAI `finish_reason`.
 * `pause_turn` (a server tool paused a long turn) ends this response like a normal stop;
 * `model_context_window_exceeded` means the output was cut by the window, like `max_tokens`.
 * Unknown future values map to `stop` so a new reason never breaks a response.
 *
 * @example
 * mapAnthropicStopReason('max_tokens'); // 'length'
 * mapAnthropicStopReason('tool_use'); // 'tool_calls'
 */
export function mapAnthropicStopReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}
