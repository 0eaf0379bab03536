import { createOpenAIAdapter } from './create-openai-adapter.ts';

/**
 * The adapter for api.openai.com: bearer auth, `[DONE]` required, usage always requested on
 * streams, `max_tokens` renamed for reasoning models.
 *
 * @example
 * const spec = openaiAdapter.buildChatRequest(request, { id: 'oa', provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1', apiKey }, { stream: false });
 */
export const openaiAdapter = createOpenAIAdapter({ name: 'openai', renameMaxTokensForReasoningModels: true });
