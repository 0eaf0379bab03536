import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatRequest } from '../../spec/index.ts';
import { convertToGeminiTools } from './convert-to-gemini-tools.ts';

const base: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

describe('convertToGeminiTools', () => {
  it('sends nothing without tools', () => {
    assert.deepEqual(convertToGeminiTools(base), {});
  });

  it('converts tools to functionDeclarations with cleaned parameters', () => {
    assert.deepEqual(
      convertToGeminiTools({
        ...base,
        tools: [
          weather,
          { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } },
        ],
      }),
      {
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'Weather for a city',
                parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
              },
              { name: 'now' },
            ],
          },
        ],
      },
    );
  });

  it('maps tool_choice to functionCallingConfig', () => {
    const config = (tool_choice: ChatRequest['tool_choice']) =>
      convertToGeminiTools({ ...base, tools: [weather], tool_choice }).toolConfig;
    assert.deepEqual(config('auto'), { functionCallingConfig: { mode: 'AUTO' } });
    assert.deepEqual(config('required'), { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(config('none'), { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(config({ type: 'function', function: { name: 'get_weather' } }), {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    });
  });
});
