import type { ProviderDefinition } from '../provider-definition.ts';
import { openAICompatibleAdapter } from './openai-compatible-adapter.ts';
import { openAICompatibleOptionsSchema } from './openai-compatible-options.ts';

/**
 * `provider: openai-compatible`: any server speaking OpenAI's wire format (Ollama, vLLM,
 * LM Studio, Groq, Together, Mistral, DeepSeek, OpenRouter…).
 *
 * @example
 * openAICompatibleProviderDefinition.adapter.name; // 'openai-compatible'
 */
export const openAICompatibleProviderDefinition: ProviderDefinition = {
  name: 'openai-compatible',
  description: 'Any server speaking the OpenAI wire format (Ollama, vLLM, LM Studio, Groq, Mistral…)',
  optionsSchema: openAICompatibleOptionsSchema,
  adapter: openAICompatibleAdapter,
};
