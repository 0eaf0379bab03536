import { toOpenAIUsage, type Usage } from '../../spec/index.ts';
import { isRecord } from '../shared/index.ts';

/**
 * Maps Anthropic usage to the OpenAI shape. Anthropic's `input_tokens` EXCLUDES the cache
 * buckets, OpenAI's `prompt_tokens` includes them: prompt tokens are input + cache reads +
 * cache writes, with the reads as `cached_tokens` and the writes as `cache_write_tokens`, so
 * cost calculations price each bucket correctly.
 *
 * @example
 * mapAnthropicUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 });
 * // { prompt_tokens: 130, completion_tokens: 5, total_tokens: 135,
 * //   prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 } }
 */
export function mapAnthropicUsage(usage: unknown): Usage {
  const source = isRecord(usage) ? usage : {};
  const input = readCount(source.input_tokens);
  const cacheRead = readCount(source.cache_read_input_tokens);
  const cacheWrite = readCount(source.cache_creation_input_tokens);
  return toOpenAIUsage({
    inputTokens: input + cacheRead + cacheWrite,
    outputTokens: readCount(source.output_tokens),
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
  });
}

function readCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
