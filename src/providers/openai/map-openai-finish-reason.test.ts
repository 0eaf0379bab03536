import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapOpenAIFinishReason } from './map-openai-finish-reason.ts';

describe('mapOpenAIFinishReason', () => {
  it('keeps OpenAI values and maps server variants', () => {
    for (const reason of ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'] as const)
      assert.equal(mapOpenAIFinishReason(reason), reason);
    assert.equal(mapOpenAIFinishReason('max_tokens'), 'length');
    assert.equal(mapOpenAIFinishReason('tool_use'), 'tool_calls');
    assert.equal(mapOpenAIFinishReason('eos'), 'stop');
    assert.equal(mapOpenAIFinishReason(null), null);
    assert.equal(mapOpenAIFinishReason(''), null);
  });
});
