import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../../core/index.ts';
import { convertToGeminiContents } from './convert-to-gemini-contents.ts';

describe('convertToGeminiContents', () => {
  it('moves system and developer messages to systemInstruction and maps roles to user/model', () => {
    assert.deepEqual(
      convertToGeminiContents(
        [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: 'Again' },
        ],
        'gemini-2.5-flash',
      ),
      {
        systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Use French.' }] },
        contents: [
          { role: 'user', parts: [{ text: 'Hi' }] },
          { role: 'model', parts: [{ text: 'Bonjour' }] },
          { role: 'user', parts: [{ text: 'Again' }] },
        ],
      },
    );
  });

  it('converts data URLs to inlineData and http URLs to fileData', () => {
    const prompt = convertToGeminiContents(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?size=large' } },
            { type: 'image_url', image_url: { url: 'https://example.com/image' } },
          ],
        },
      ],
      'gemini-2.5-flash',
    );
    assert.deepEqual(prompt.contents[0]?.parts, [
      { text: 'Describe' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { fileUri: 'https://example.com/cat.JPG?size=large', mimeType: 'image/jpeg' } },
      { fileData: { fileUri: 'https://example.com/image' } },
    ]);
  });

  it('turns tool calls into functionCall parts and tool messages into functionResponse parts named after the call', () => {
    const prompt = convertToGeminiContents(
      [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_0',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            { id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_0', content: '{"temp":18}' },
        { role: 'tool', tool_call_id: 'call_1', content: 'noon' },
      ],
      'gemini-2.5-flash',
    );
    assert.deepEqual(prompt.contents, [
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: { temp: 18 } } } },
          { functionResponse: { name: 'get_time', response: { output: 'noon' } } },
        ],
      },
    ]);
  });

  it('adds the skip-validator thought signature to the first replayed call for Gemini 3 models only', () => {
    const messages = [
      { role: 'user' as const, content: 'x' },
      {
        role: 'assistant' as const,
        content: null,
        tool_calls: [
          { id: 'a', type: 'function' as const, function: { name: 'f', arguments: '{}' } },
          { id: 'b', type: 'function' as const, function: { name: 'g', arguments: '{}' } },
        ],
      },
    ];
    assert.deepEqual(convertToGeminiContents(messages, 'gemini-3-pro-preview').contents[1]?.parts, [
      { functionCall: { name: 'f', args: {} }, thoughtSignature: 'skip_thought_signature_validator' },
      { functionCall: { name: 'g', args: {} } },
    ]);
    assert.deepEqual(convertToGeminiContents(messages, 'gemini-2.5-flash').contents[1]?.parts, [
      { functionCall: { name: 'f', args: {} } },
      { functionCall: { name: 'g', args: {} } },
    ]);
  });

  it('names the field for bad arguments and for a tool message without a matching call', () => {
    assert.throws(
      () =>
        convertToGeminiContents(
          [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{oops' } }],
            },
          ],
          'gemini-2.5-flash',
        ),
      (error: unknown) =>
        PipewrightError.isInstance(error) && error.param === 'messages[1].tool_calls[0].function.arguments',
    );
    assert.throws(
      () =>
        convertToGeminiContents(
          [
            { role: 'user', content: 'x' },
            { role: 'tool', tool_call_id: 'nope', content: '1' },
          ],
          'gemini-2.5-flash',
        ),
      (error: unknown) => PipewrightError.isInstance(error) && error.param === 'messages[1].tool_call_id',
    );
  });
});
