import { createAnthropicAdapter } from './create-anthropic-adapter.ts';

export { createAnthropicAdapter, type AnthropicAdapterOptions } from './create-anthropic-adapter.ts';
export { parseAnthropicRateLimitResetMs } from './parse-anthropic-error.ts';

/**
 * The Anthropic adapter with the system clock. Stateless: every stream gets its own
 * transformer, so sharing this object is safe.
 *
 * @example
 * import { anthropicAdapter } from './providers/anthropic/index.ts';
 * const spec = anthropicAdapter.buildChatRequest(request, deployment, { stream: false });
 */
export const anthropicAdapter = createAnthropicAdapter();
