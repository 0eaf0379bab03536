import { createBearerAuthHeaders, createOpenAIAdapter } from './create-openai-adapter.ts';
import { createOpenAIAccountHeaders } from './openai-options.ts';

/**
 * The adapter for api.openai.com: bearer auth (plus `OpenAI-Organization` / `OpenAI-Project`
 * from `options.organization` / `options.project`), `[DONE]` required, usage always requested
 * on streams, `max_tokens` renamed for reasoning models.
 *
 * @example
 * const spec = openaiAdapter.buildChatRequest(request, { id: 'oa', provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1', apiKey }, { stream: false });
 */
export const openaiAdapter = createOpenAIAdapter({
  name: 'openai',
  createAuthHeaders: (deployment) => ({
    ...createBearerAuthHeaders(deployment),
    ...createOpenAIAccountHeaders(deployment),
  }),
  renameMaxTokensForReasoningModels: true,
});
