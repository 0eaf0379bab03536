import { toOpenAIUsage, type Usage } from '../../spec/index.ts';
import type { GeminiUsage } from './gemini-api-schemas.ts';

/**
 * Maps Gemini `usageMetadata` to the OpenAI shape. `promptTokenCount` already includes
 * `cachedContentTokenCount` (reported as `cached_tokens`); tool-use prompt tokens count as
 * prompt. Thinking tokens (`thoughtsTokenCount`) are billed as output and OpenAI counts
 * reasoning inside `completion_tokens`, so they are added to the candidates' tokens and also
 * reported as `reasoning_tokens`.
 *
 * @example
 * mapGeminiUsage({ promptTokenCount: 9, candidatesTokenCount: 23, thoughtsTokenCount: 185, cachedContentTokenCount: 4 });
 * // { prompt_tokens: 9, completion_tokens: 208, total_tokens: 217,
 * //   prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 185 } }
 */
export function mapGeminiUsage(usageMetadata: GeminiUsage | null | undefined): Usage {
  const thoughts = usageMetadata?.thoughtsTokenCount ?? 0;
  return toOpenAIUsage({
    inputTokens: (usageMetadata?.promptTokenCount ?? 0) + (usageMetadata?.toolUsePromptTokenCount ?? 0),
    outputTokens: (usageMetadata?.candidatesTokenCount ?? 0) + thoughts,
    cachedInputTokens: usageMetadata?.cachedContentTokenCount ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  });
}
