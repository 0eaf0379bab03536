import { createOpenAIAdapter } from '../openai/index.ts';
import { readOpenAICompatibleOptions } from './openai-compatible-options.ts';
import { findOpenAICompatiblePreset } from './openai-compatible-presets.ts';

/**
 * The adapter for any server speaking OpenAI's wire format at `deployment.baseUrl`: bearer auth
 * only when a key is configured, extra headers from `deployment.headers`, lenient about missing
 * `id`/`created`/usage and about a missing `[DONE]` after a finish reason, and no
 * `stream_options` for servers known to reject it (Mistral) or whose `options.streamUsage` is false.
 *
 * @example
 * const deployment = { id: 'local-llama', provider: 'openai-compatible', model: 'llama3.2', baseUrl: 'http://127.0.0.1:11434/v1' } as const;
 * const spec = openAICompatibleAdapter.buildChatRequest(request, deployment, { stream: true });
 */
export const openAICompatibleAdapter = createOpenAIAdapter({
  name: 'openai-compatible',
  requireDoneMarker: false,
  includeStreamUsage: (deployment) =>
    readOpenAICompatibleOptions(deployment).streamUsage ??
    findOpenAICompatiblePreset(deployment.baseUrl)?.supportsStreamUsage ??
    true,
});
