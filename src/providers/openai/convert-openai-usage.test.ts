import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { convertOpenAIUsage } from './convert-openai-usage.ts';

describe('convertOpenAIUsage', () => {
  it('keeps counts and details, fills total_tokens', () => {
    assert.deepEqual(
      convertOpenAIUsage({
        prompt_tokens: 10,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 2 },
      }),
      {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 4 },
        completion_tokens_details: { reasoning_tokens: 2 },
      },
    );
  });

  it('returns undefined when there are no counts, and never NaN', () => {
    assert.equal(convertOpenAIUsage(null), undefined);
    assert.equal(convertOpenAIUsage({}), undefined);
    assert.equal(convertOpenAIUsage({ prompt_tokens: 'x', completion_tokens: Number.NaN }), undefined);
    assert.deepEqual(convertOpenAIUsage({ completion_tokens: 3, prompt_tokens_details: null }), {
      prompt_tokens: 0,
      completion_tokens: 3,
      total_tokens: 3,
    });
  });
});
