import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapGeminiUsage } from './map-gemini-usage.ts';

describe('mapGeminiUsage', () => {
  it('counts thinking tokens inside completion_tokens and reports them as reasoning', () => {
    assert.deepEqual(
      mapGeminiUsage({
        promptTokenCount: 9,
        candidatesTokenCount: 23,
        totalTokenCount: 217,
        thoughtsTokenCount: 185,
      }),
      {
        prompt_tokens: 9,
        completion_tokens: 208,
        total_tokens: 217,
        completion_tokens_details: { reasoning_tokens: 185 },
      },
    );
  });

  it('reports cached content tokens as cached_tokens within prompt_tokens', () => {
    assert.deepEqual(
      mapGeminiUsage({ promptTokenCount: 1000, cachedContentTokenCount: 800, candidatesTokenCount: 10 }),
      {
        prompt_tokens: 1000,
        completion_tokens: 10,
        total_tokens: 1010,
        prompt_tokens_details: { cached_tokens: 800 },
      },
    );
  });

  it('reads missing usage as zero', () => {
    assert.deepEqual(mapGeminiUsage(undefined), { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});
