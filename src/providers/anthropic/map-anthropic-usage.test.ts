import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapAnthropicUsage } from './map-anthropic-usage.ts';

describe('mapAnthropicUsage', () => {
  it('counts cache reads and writes inside prompt_tokens, as OpenAI does', () => {
    assert.deepEqual(
      mapAnthropicUsage({
        input_tokens: 10,
        output_tokens: 5,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 20,
      }),
      {
        prompt_tokens: 130,
        completion_tokens: 5,
        total_tokens: 135,
        prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 },
      },
    );
  });

  it('leaves out details when there is no caching, and reads missing usage as zero', () => {
    assert.deepEqual(
      mapAnthropicUsage({
        input_tokens: 12,
        output_tokens: 30,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      }),
      {
        prompt_tokens: 12,
        completion_tokens: 30,
        total_tokens: 42,
      },
    );
    assert.deepEqual(mapAnthropicUsage(undefined), {
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
    });
  });
});
