import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import type { TransformContext } from '../types.ts';
import { parseOpenAIChatResponse } from './parse-openai-chat-response.ts';

const context: TransformContext = {
  deployment: { id: 'd', provider: 'openai-compatible', model: 'llama3.2', baseUrl: 'http://x/v1' },
  created: 1700000000,
  fallbackId: 'chatcmpl_fb',
};

describe('parseOpenAIChatResponse', () => {
  it('keeps a complete OpenAI response', () => {
    const response = parseOpenAIChatResponse(
      {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 5,
        model: 'gpt-4o-mini-2024-07-18',
        system_fingerprint: 'fp_1',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hi', refusal: null },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: 3,
          completion_tokens: 1,
          total_tokens: 4,
          prompt_tokens_details: { cached_tokens: 0 },
        },
      },
      context,
      'openai',
    );
    assert.deepEqual(response, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 5,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 3,
        completion_tokens: 1,
        total_tokens: 4,
        prompt_tokens_details: { cached_tokens: 0 },
      },
      system_fingerprint: 'fp_1',
    });
  });

  it('fills what minimal servers omit and gives tool calls ids', () => {
    const response = parseOpenAIChatResponse(
      {
        choices: [
          {
            message: {
              content: null,
              tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
      },
      context,
      'openai-compatible',
    );
    assert.equal(response.id, 'chatcmpl_fb');
    assert.equal(response.created, 1700000000);
    assert.equal(response.model, 'llama3.2');
    assert.equal(response.usage, undefined);
    const call = response.choices[0]?.message.tool_calls?.[0];
    assert.ok(call !== undefined && call.id.length > 0);
    assert.equal(call.function.arguments, '{"city":"Paris"}');
  });

  it('throws malformed_response naming the bad field', () => {
    assert.throws(
      () => parseOpenAIChatResponse({ choices: [{ message: 'x' }] }, context, 'openai'),
      (error: unknown) =>
        ProviderError.isProviderError(error) &&
        error.kind === 'malformed_response' &&
        /choices\[0\]\.message/.test(error.message),
    );
    assert.throws(() => parseOpenAIChatResponse({ object: 'chat.completion' }, context, 'openai'), /choices/);
  });
});
