import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../../core/index.ts';
import { convertToAnthropicMessages } from './convert-to-anthropic-messages.ts';

describe('convertToAnthropicMessages', () => {
  it('moves system and developer messages to the top-level system', () => {
    const single = convertToAnthropicMessages([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    assert.deepEqual(single, {
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });

    const several = convertToAnthropicMessages([
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: 'Hi' },
    ]);
    assert.deepEqual(several.system, [
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Answer in French.' },
    ]);
  });

  it('merges consecutive same-role messages so turns alternate', () => {
    const prompt = convertToAnthropicMessages([
      { role: 'user', content: 'One' },
      { role: 'user', content: 'Two' },
      { role: 'assistant', content: 'Three' },
      { role: 'assistant', content: 'Four' },
      { role: 'user', content: 'Five' },
    ]);
    assert.deepEqual(prompt.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'One' },
          { type: 'text', text: 'Two' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Three' },
          { type: 'text', text: 'Four' },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'Five' }] },
    ]);
  });

  it('converts base64 data URLs and http URLs to image blocks', () => {
    const prompt = convertToAnthropicMessages([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
    assert.deepEqual(prompt.messages[0]?.content, [
      { type: 'text', text: 'Compare these' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('refuses an image type Anthropic cannot read, naming the field', () => {
    assert.throws(
      () =>
        convertToAnthropicMessages([
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AAAA' } }],
          },
        ]),
      (error: unknown) =>
        PipewrightError.isInstance(error) && error.param === 'messages[0].content[0].image_url.url',
    );
  });

  it('turns assistant tool calls into tool_use blocks and tool messages into one user turn of tool_result blocks', () => {
    const prompt = convertToAnthropicMessages([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '21C' }] },
      { role: 'user', content: 'Thanks' },
    ]);
    assert.deepEqual(prompt.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '21C' }] },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ]);
  });

  it('names the arguments field when tool-call arguments are not a JSON object', () => {
    for (const args of ['{not json', '[1,2]']) {
      assert.throws(
        () =>
          convertToAnthropicMessages([
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: args } }],
            },
          ]),
        (error: unknown) =>
          PipewrightError.isInstance(error) &&
          error.code === 'request.invalid' &&
          error.param === 'messages[1].tool_calls[0].function.arguments' &&
          error.message.includes('messages[1].tool_calls[0].function.arguments'),
      );
    }
  });

  it('trims trailing whitespace from a final assistant prefill', () => {
    const prompt = convertToAnthropicMessages([
      { role: 'user', content: 'List three fruits' },
      { role: 'assistant', content: 'Here they are:\n ' },
    ]);
    assert.deepEqual(prompt.messages.at(-1), {
      role: 'assistant',
      content: [{ type: 'text', text: 'Here they are:' }],
    });
  });
});
