import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readGeminiCandidate } from './read-gemini-candidate.ts';

describe('readGeminiCandidate', () => {
  it('joins visible text, skips thoughts and signatures, and reads function calls', () => {
    assert.deepEqual(
      readGeminiCandidate(
        {
          index: 1,
          finishReason: 'STOP',
          content: {
            role: 'model',
            parts: [
              { text: 'thinking…', thought: true },
              { text: 'Hello' },
              { text: '', thoughtSignature: 'EqsF' },
              { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'EskC' },
              { functionCall: { id: 'fc_1', name: 'get_time' } },
            ],
          },
        },
        0,
      ),
      {
        index: 1,
        text: 'Hello',
        finishReason: 'STOP',
        functionCalls: [
          { name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'fc_1', name: 'get_time', arguments: '{}' },
        ],
      },
    );
  });

  it('accepts a candidate without content (blocked by safety) and uses its position as index', () => {
    assert.deepEqual(readGeminiCandidate({ finishReason: 'SAFETY' }, 2), {
      index: 2,
      text: '',
      functionCalls: [],
      finishReason: 'SAFETY',
    });
  });
});
