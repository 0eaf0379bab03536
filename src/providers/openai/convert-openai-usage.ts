import type { Usage } from '../../spec/index.ts';

/**
 * Wire usage → canonical usage, tolerating servers that omit `total_tokens` or details, and
 * rejecting non-numbers (never NaN).
 *
 * @returns The usage, or undefined when no token counts are present.
 *
 * @example
 * convertOpenAIUsage({ prompt_tokens: 10, completion_tokens: 5 }); // { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }
 */
export function convertOpenAIUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const wire = value as Record<string, unknown>;
  const prompt = readCount(wire['prompt_tokens']);
  const completion = readCount(wire['completion_tokens']);
  if (prompt === undefined && completion === undefined) return undefined;
  const usage: Usage = {
    prompt_tokens: prompt ?? 0,
    completion_tokens: completion ?? 0,
    total_tokens: readCount(wire['total_tokens']) ?? (prompt ?? 0) + (completion ?? 0),
  };
  const cached = readCount(readField(wire['prompt_tokens_details'], 'cached_tokens'));
  if (cached !== undefined) usage.prompt_tokens_details = { cached_tokens: cached };
  const reasoning = readCount(readField(wire['completion_tokens_details'], 'reasoning_tokens'));
  if (reasoning !== undefined) usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}

function readField(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function readCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
