import { toOpenAIUsage, type Usage } from '../../spec/index.ts';
import type { AnthropicUsage } from './anthropic-api-schemas.ts';

/**
 * Maps Anthropic usage to the OpenAI shape. Anthropic's `input_tokens` EXCLUDES the cache
 * buckets, OpenAI's `prompt_tokens` includes them: prompt tokens are input + cache reads +
 * cache writes, with the reads as `cached_tokens` and the writes as `cache_write_tokens`, so
 * cost calculations price each bucket correctly. Missing counts are 0.
 *
 * @example
 * mapAnthropicUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 });
 * // { prompt_tokens: 130, completion_tokens: 5, total_tokens: 135,
 * //   prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 } }
 */
export function mapAnthropicUsage(usage: AnthropicUsage | null | undefined): Usage {
  const input = usage?.input_tokens ?? 0;
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const cacheWrite = usage?.cache_creation_input_tokens ?? 0;
  return toOpenAIUsage({
    inputTokens: input + cacheRead + cacheWrite,
    outputTokens: usage?.output_tokens ?? 0,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
  });
}
