import type { Usage } from './chat.ts';

/** Token counts normalised across providers. `inputTokens` includes cached input. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache (billed at a discount). */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (Anthropic bills these at a premium). */
  cacheWriteTokens: number;
  /** Output tokens spent on hidden reasoning (included in outputTokens). */
  reasoningTokens: number;
}

export const emptyUsage: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

/** OpenAI-shaped usage → normalised counts. */
export function normalizeUsage(usage: Usage | null | undefined): TokenUsage {
  if (usage === null || usage === undefined) return { ...emptyUsage };
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/** Normalised counts → OpenAI-shaped usage (details only when non-zero). */
export function toOpenAIUsage(usage: TokenUsage): Usage {
  const out: Usage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  if (usage.cachedInputTokens > 0 || usage.cacheWriteTokens > 0) {
    out.prompt_tokens_details = { cached_tokens: usage.cachedInputTokens };
    if (usage.cacheWriteTokens > 0) out.prompt_tokens_details.cache_write_tokens = usage.cacheWriteTokens;
  }
  if (usage.reasoningTokens > 0) out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return out;
}
