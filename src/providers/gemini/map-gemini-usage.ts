import { toOpenAIUsage, type Usage } from '../../spec/index.ts';
import { isRecord } from '../shared/index.ts';

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
export function mapGeminiUsage(usageMetadata: unknown): Usage {
  const source = isRecord(usageMetadata) ? usageMetadata : {};
  const thoughts = readCount(source.thoughtsTokenCount);
  return toOpenAIUsage({
    inputTokens: readCount(source.promptTokenCount) + readCount(source.toolUsePromptTokenCount),
    outputTokens: readCount(source.candidatesTokenCount) + thoughts,
    cachedInputTokens: readCount(source.cachedContentTokenCount),
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  });
}

function readCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
