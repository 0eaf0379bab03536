import { parseOpenAIResetDuration } from '../providers/index.ts';

/** Provider headers announcing an exhausted limit, with the header saying when it resets. */
const openAIPairs = [
  ['x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests'],
  ['x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'],
] as const;
const anthropicPairs = [
  ['anthropic-ratelimit-requests-remaining', 'anthropic-ratelimit-requests-reset'],
  ['anthropic-ratelimit-tokens-remaining', 'anthropic-ratelimit-tokens-reset'],
  ['anthropic-ratelimit-input-tokens-remaining', 'anthropic-ratelimit-input-tokens-reset'],
  ['anthropic-ratelimit-output-tokens-remaining', 'anthropic-ratelimit-output-tokens-reset'],
] as const;

/**
 * Reads a successful response's rate-limit headers: when the provider says a limit has nothing
 * left (`x-ratelimit-remaining-requests: 0`, `anthropic-ratelimit-tokens-remaining: 0`), returns
 * how long until it resets, so the deployment can rest until then instead of collecting 429s.
 * OpenAI resets are durations (`6m0s`), Anthropic's RFC 3339 times.
 *
 * @param headers - Response headers with lowercase names.
 * @param now - Epoch ms, for Anthropic's absolute reset times.
 * @returns The pause and the header that asked for it, or undefined.
 *
 * @example
 * readRateLimitPause({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1.5s' }, Date.now());
 * // { pauseMs: 1500, header: 'x-ratelimit-remaining-requests' }
 */
export function readRateLimitPause(
  headers: Readonly<Record<string, string>>,
  now: number,
): { pauseMs: number; header: string } | undefined {
  let found: { pauseMs: number; header: string } | undefined;
  for (const [remaining, reset] of openAIPairs) {
    if (headers[remaining]?.trim() !== '0') continue;
    const pauseMs = parseOpenAIResetDuration(headers[reset]);
    if (pauseMs !== undefined && (found === undefined || pauseMs > found.pauseMs))
      found = { pauseMs, header: remaining };
  }
  for (const [remaining, reset] of anthropicPairs) {
    if (headers[remaining]?.trim() !== '0') continue;
    const at = Date.parse(headers[reset] ?? '');
    if (!Number.isFinite(at)) continue;
    const pauseMs = Math.max(0, at - now);
    if (found === undefined || pauseMs > found.pauseMs) found = { pauseMs, header: remaining };
  }
  return found;
}
