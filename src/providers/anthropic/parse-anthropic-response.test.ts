import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import type { TransformContext } from '../types.ts';
import { parseAnthropicResponse } from './parse-anthropic-response.ts';

const context: TransformContext = {
  deployment: {
    id: 'claude-eu',
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    baseUrl: 'https://api.anthropic.com/v1',
  },
  created: 1_700_000_000,
  fallbackId: 'chatcmpl-fallback',
};

describe('parseAnthropicResponse', () => {
  it('converts a text message with usage', () => {
    const response = parseAnthropicResponse(
      {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [
          { type: 'text', text: 'Hello' },
          { type: 'text', text: ' there' },
        ],
        stop_reason: 'end_turn',
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_read_input_tokens: 4,
          cache_creation_input_tokens: 0,
        },
      },
      context,
    );
    assert.deepEqual(response, {
      id: 'msg_01',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there' },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 14,
        completion_tokens: 5,
        total_tokens: 19,
        prompt_tokens_details: { cached_tokens: 4 },
      },
    });
  });

  it('converts tool_use blocks to tool calls with their ids and JSON arguments', () => {
    const response = parseAnthropicResponse(
      {
        id: 'msg_02',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 20, output_tokens: 10 },
      },
      context,
    );
    const choice = response.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, 'Checking.');
    assert.deepEqual(choice?.message.tool_calls, [
      { id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
  });

  it('returns the json_output tool input as the content with finish_reason stop', () => {
    const response = parseAnthropicResponse(
      {
        id: 'msg_03',
        content: [{ type: 'tool_use', id: 'toolu_02', name: 'json_output', input: { answer: 42 } }],
        stop_reason: 'tool_use',
        usage: { input_tokens: 20, output_tokens: 10 },
      },
      context,
    );
    assert.equal(response.choices[0]?.message.content, '{"answer":42}');
    assert.equal(response.choices[0]?.message.tool_calls, undefined);
    assert.equal(response.choices[0]?.finish_reason, 'stop');
  });

  it('falls back to the context id and deployment model, and skips thinking blocks', () => {
    const response = parseAnthropicResponse(
      {
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig' },
          { type: 'text', text: 'Done' },
        ],
        stop_reason: 'max_tokens',
      },
      context,
    );
    assert.equal(response.id, 'chatcmpl-fallback');
    assert.equal(response.model, 'claude-sonnet-4-5');
    assert.equal(response.choices[0]?.message.content, 'Done');
    assert.equal(response.choices[0]?.finish_reason, 'length');
  });

  it('throws malformed_response for a body that is not a message', () => {
    for (const body of [null, 'text', { id: 'x' }, { content: [{ type: 'text' }] }]) {
      assert.throws(
        () => parseAnthropicResponse(body, context),
        (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'malformed_response',
      );
    }
  });

  it('maps an error envelope in a 2xx body', () => {
    assert.throws(
      () =>
        parseAnthropicResponse(
          { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
          context,
        ),
      (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'overloaded',
    );
  });

  it('tolerates unknown fields and block types, and optional fields that are missing or null', () => {
    const response = parseAnthropicResponse(
      {
        type: 'message',
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Let me see…', signature: 'EqQB' },
          { type: 'text', text: 'Hi', citations: null },
          { type: 'server_tool_use', id: 'srv_1', name: 'web_search', input: { query: 'x' } },
          { type: 'a_block_from_the_future', payload: [1, 2] },
        ],
        id: null,
        stop_reason: null,
        usage: { input_tokens: 4, output_tokens: 1, service_tier: 'standard', server_tool_use: {} },
        container: null,
      },
      context,
    );
    assert.equal(response.choices[0]?.message.content, 'Hi');
    assert.equal(response.choices[0]?.finish_reason, 'stop');
    assert.equal(response.id, 'chatcmpl-fallback');
    assert.equal(response.usage?.prompt_tokens, 4);
  });

  it('rejects a field of the wrong type with malformed_response naming the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ content: [{ type: 'text', text: 5 }] }, /content\[0\]\.text: .*expected string/],
      [{ content: [], stop_reason: 7 }, /stop_reason: .*expected string/],
      [{ content: [], usage: { input_tokens: 'ten' } }, /usage\.input_tokens: .*expected number/],
      [{ content: [{ type: 'tool_use', id: 'toolu_1', input: {} }] }, /content\[0\]\.name/],
      [{ content: [], model: ['claude'] }, /model: .*expected string/],
    ];
    for (const [body, message] of cases) {
      assert.throws(
        () => parseAnthropicResponse(body, context),
        (error: unknown) =>
          ProviderError.isProviderError(error) &&
          error.kind === 'malformed_response' &&
          error.deployment === 'claude-eu' &&
          message.test(error.message),
        JSON.stringify(body),
      );
    }
  });
});
