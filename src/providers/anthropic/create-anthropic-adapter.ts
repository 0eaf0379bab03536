import type { ProviderAdapter } from '../types.ts';
import { buildAnthropicChatRequest } from './build-anthropic-chat-request.ts';
import { createAnthropicStreamTransformer } from './create-anthropic-stream-transformer.ts';
import { parseAnthropicError } from './parse-anthropic-error.ts';
import { parseAnthropicResponse } from './parse-anthropic-response.ts';

export interface AnthropicAdapterOptions {
  /** The current time in ms since the epoch, for rate-limit reset timestamps (tests inject it). */
  now?: () => number;
}

/**
 * The Anthropic Messages API adapter: pure transforms between the canonical (OpenAI) chat
 * shape and `POST /v1/messages`, its SSE stream and its errors. Anthropic has no embeddings
 * or images endpoint, so those transforms are absent.
 *
 * @example
 * const adapter = createAnthropicAdapter({ now: () => Date.parse('2025-01-01T00:00:00Z') });
 * const spec = adapter.buildChatRequest(request, deployment, { stream: true });
 */
export function createAnthropicAdapter(options: AnthropicAdapterOptions = {}): ProviderAdapter {
  const now = options.now ?? Date.now;
  return {
    name: 'anthropic',
    buildChatRequest: buildAnthropicChatRequest,
    parseChatResponse: parseAnthropicResponse,
    createStreamTransformer: createAnthropicStreamTransformer,
    parseError: (failure, deployment) => parseAnthropicError(failure, deployment, now),
  };
}

/**
 * The Anthropic adapter with the system clock. Stateless: every stream gets its own
 * transformer, so sharing this object is safe.
 *
 * @example
 * import { anthropicAdapter } from './providers/anthropic/index.ts';
 * const spec = anthropicAdapter.buildChatRequest(request, deployment, { stream: false });
 */
export const anthropicAdapter = createAnthropicAdapter();
