import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRequestError } from '../core/index.ts';
import { parseChatRequest } from './chat.ts';
import { parseEmbeddingsRequest } from './embeddings.ts';
import { parseImagesRequest } from './images.ts';
import { normalizeUsage, toOpenAIUsage } from './usage.ts';

function rejectsAt(value: unknown, param: string) {
  assert.throws(
    () => parseChatRequest(value),
    (error: unknown) => {
      assert.ok(error instanceof InvalidRequestError, 'an InvalidRequestError');
      assert.equal(error.param, param);
      assert.ok(error.message.startsWith(`${param}:`), error.message);
      return true;
    },
  );
}

test('accepts the full OpenAI chat request shape', () => {
  const request = parseChatRequest({
    model: 'fast',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"answer":"a cat"}' },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'lookup',
          description: 'search',
          parameters: { type: 'object', properties: { q: { type: 'string' } } },
        },
      },
    ],
    tool_choice: { type: 'function', function: { name: 'lookup' } },
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
    },
    temperature: 0.2,
    top_p: 0.9,
    max_tokens: 100,
    stop: ['END'],
    seed: 42,
    user: 'user-7',
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(request.messages.length, 5);
  assert.equal(request.seed, 42);
});

test('keeps unknown provider-specific fields for pass-through', () => {
  const request = parseChatRequest({
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    reasoning_effort: 'low',
  });
  assert.equal((request as Record<string, unknown>).reasoning_effort, 'low');
});

test('rejects bad requests naming the field path', () => {
  rejectsAt({ messages: [{ role: 'user', content: 'x' }] }, 'model');
  rejectsAt({ model: 'm', messages: [] }, 'messages');
  rejectsAt(
    {
      model: 'm',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'robot', content: 'x' },
      ],
    },
    'messages[1].role',
  );
  rejectsAt({ model: 'm', messages: [{ role: 'user', content: 42 }] }, 'messages[0].content');
  rejectsAt(
    {
      model: 'm',
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] },
      ],
    },
    'messages[0].content[0].image_url.url',
  );
  rejectsAt({ model: 'm', messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id');
  rejectsAt({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }, 'temperature');
  rejectsAt({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }, 'max_tokens');
  rejectsAt(
    {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'has space' } }],
    },
    'tools[0].function.name',
  );
  rejectsAt(
    { model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'xml' } },
    'response_format.type',
  );
  rejectsAt(
    { model: 'm', messages: [{ role: 'user', content: 'x' }], stop: ['a', 'b', 'c', 'd', 'e'] },
    'stop',
  );
});

test('a body that is not an object is rejected without a crash', () => {
  for (const value of [null, 42, 'text', [1, 2]]) {
    assert.throws(() => parseChatRequest(value), InvalidRequestError);
  }
});

test('embeddings and images requests are validated too', () => {
  assert.equal(parseEmbeddingsRequest({ model: 'e', input: ['a', 'b'] }).model, 'e');
  assert.throws(
    () => parseEmbeddingsRequest({ model: 'e', input: [] }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'input',
  );
  assert.throws(
    () => parseEmbeddingsRequest({ model: 'e', input: 'x', encoding_format: 'hex' }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'encoding_format',
  );
  assert.equal(parseImagesRequest({ model: 'i', prompt: 'a cat', size: '1024x1024' }).size, '1024x1024');
  assert.throws(
    () => parseImagesRequest({ model: 'i', prompt: 'a cat', size: 'huge' }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'size',
  );
});

test('usage normalisation keeps cached and reasoning tokens', () => {
  const usage = normalizeUsage({
    prompt_tokens: 100,
    completion_tokens: 50,
    total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 40 },
    completion_tokens_details: { reasoning_tokens: 20 },
  });
  assert.deepEqual(usage, {
    inputTokens: 100,
    outputTokens: 50,
    cachedInputTokens: 40,
    cacheWriteTokens: 0,
    reasoningTokens: 20,
  });
  assert.deepEqual(toOpenAIUsage(usage), {
    prompt_tokens: 100,
    completion_tokens: 50,
    total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 40 },
    completion_tokens_details: { reasoning_tokens: 20 },
  });
  assert.deepEqual(normalizeUsage(null).inputTokens, 0);
});
