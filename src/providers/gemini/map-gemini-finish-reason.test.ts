import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapGeminiFinishReason } from './map-gemini-finish-reason.ts';

describe('mapGeminiFinishReason', () => {
  it('maps STOP to stop, or tool_calls when the candidate called functions', () => {
    assert.equal(mapGeminiFinishReason('STOP', false), 'stop');
    assert.equal(mapGeminiFinishReason('STOP', true), 'tool_calls');
  });

  it('maps MAX_TOKENS to length and every safety reason to content_filter', () => {
    assert.equal(mapGeminiFinishReason('MAX_TOKENS', false), 'length');
    for (const reason of [
      'SAFETY',
      'RECITATION',
      'BLOCKLIST',
      'PROHIBITED_CONTENT',
      'SPII',
      'IMAGE_SAFETY',
    ]) {
      assert.equal(mapGeminiFinishReason(reason, false), 'content_filter', reason);
    }
  });

  it('maps other or unknown reasons to stop', () => {
    assert.equal(mapGeminiFinishReason('OTHER', false), 'stop');
    assert.equal(mapGeminiFinishReason('MALFORMED_FUNCTION_CALL', false), 'stop');
    assert.equal(mapGeminiFinishReason(undefined, false), 'stop');
  });
});
