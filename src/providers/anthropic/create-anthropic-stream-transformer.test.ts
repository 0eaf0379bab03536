import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import type { ChatChunk } from '../../spec/index.ts';
import type { SseEvent, TransformContext } from '../types.ts';
import { createAnthropicStreamTransformer } from './create-anthropic-stream-transformer.ts';

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

const event = (data: Record<string, unknown>): SseEvent => ({
  event: String(data.type),
  data: JSON.stringify(data),
});
const messageStart = event({
  type: 'message_start',
  message: {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [],
    usage: { input_tokens: 12, cache_read_input_tokens: 3, output_tokens: 1 },
  },
});

function run(events: SseEvent[]): ChatChunk[] {
  const transformer = createAnthropicStreamTransformer(context);
  const chunks = events.flatMap((item) => transformer.push(item));
  return [...chunks, ...transformer.finish()];
}

describe('createAnthropicStreamTransformer', () => {
  it('streams text and ends with a finish chunk and a usage chunk', () => {
    const chunks = run([
      messageStart,
      event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      event({ type: 'ping' }),
      event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
      event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' world' } }),
      event({ type: 'content_block_stop', index: 0 }),
      event({
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 30 },
      }),
      event({ type: 'message_stop' }),
    ]);
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]?.delta ?? null),
      [{ role: 'assistant' }, { content: 'Hello' }, { content: ' world' }, {}, null],
    );
    assert.ok(
      chunks.every(
        (chunk) =>
          chunk.id === 'msg_01' &&
          chunk.model === 'claude-sonnet-4-5-20250929' &&
          chunk.created === 1_700_000_000,
      ),
    );
    assert.equal(chunks[3]?.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(chunks[4]?.choices, []);
    assert.deepEqual(chunks[4]?.usage, {
      prompt_tokens: 15,
      completion_tokens: 30,
      total_tokens: 45,
      prompt_tokens_details: { cached_tokens: 3 },
    });
  });

  it('streams tool calls as fragments indexed among tool calls only', () => {
    const chunks = run([
      messageStart,
      event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me check.' } }),
      event({ type: 'content_block_stop', index: 0 }),
      event({
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: {} },
      }),
      event({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
      event({
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{"city":' },
      }),
      event({
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '"Paris"}' },
      }),
      event({ type: 'content_block_stop', index: 1 }),
      event({
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'tool_use', id: 'toolu_b', name: 'get_time', input: {} },
      }),
      event({
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'input_json_delta', partial_json: '{}' },
      }),
      event({ type: 'content_block_stop', index: 2 }),
      event({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 40 } }),
      event({ type: 'message_stop' }),
    ]);
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    assert.deepEqual(toolDeltas, [
      { index: 0, id: 'toolu_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 0, function: { arguments: '{"city":' } },
      { index: 0, function: { arguments: '"Paris"}' } },
      { index: 1, id: 'toolu_b', type: 'function', function: { name: 'get_time', arguments: '' } },
      { index: 1, function: { arguments: '{}' } },
    ]);
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'tool_calls');
  });

  it('streams the json_output tool input as content with finish_reason stop', () => {
    const chunks = run([
      messageStart,
      event({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_j', name: 'json_output', input: {} },
      }),
      event({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"answer":' },
      }),
      event({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '42}' },
      }),
      event({ type: 'content_block_stop', index: 0 }),
      event({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }),
      event({ type: 'message_stop' }),
    ]);
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(content, '{"answer":42}');
    assert.equal(
      chunks.some((chunk) => chunk.choices[0]?.delta.tool_calls !== undefined),
      false,
    );
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
  });

  it('skips thinking, signature and citation deltas, server tool input and unknown events', () => {
    const chunks = run([
      messageStart,
      event({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
      event({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'thinking_delta', thinking: 'Let me think' },
      }),
      event({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQB' } }),
      event({ type: 'content_block_stop', index: 0 }),
      event({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
      event({
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'citations_delta', citation: { type: 'char_location' } },
      }),
      event({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Answer' } }),
      event({
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} },
      }),
      event({
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' },
      }),
      event({ type: 'something_new', payload: 1 }),
      event({ type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 5 } }),
      event({ type: 'message_stop' }),
    ]);
    assert.deepEqual(
      chunks.filter((chunk) => chunk.choices.length > 0).map((chunk) => chunk.choices[0]?.delta),
      [{ role: 'assistant' }, { content: 'Answer' }, {}],
    );
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'length');
  });

  it('throws the mapped error for an error event mid-stream', () => {
    const transformer = createAnthropicStreamTransformer(context);
    transformer.push(messageStart);
    assert.throws(
      () =>
        transformer.push(
          event({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
        ),
      (error: unknown) =>
        ProviderError.isProviderError(error) &&
        error.kind === 'overloaded' &&
        error.providerCode === 'overloaded_error',
    );
  });

  it('throws stream_cut when the body ends before message_stop', () => {
    const transformer = createAnthropicStreamTransformer(context);
    transformer.push(messageStart);
    transformer.push(
      event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    );
    assert.equal(transformer.done, false);
    assert.throws(
      () => transformer.finish(),
      (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'stream_cut',
    );
  });

  it('reports done after message_stop and ignores anything after it', () => {
    const transformer = createAnthropicStreamTransformer(context);
    transformer.push(messageStart);
    transformer.push(event({ type: 'message_stop' }));
    assert.equal(transformer.done, true);
    assert.deepEqual(
      transformer.push(
        event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'late' } }),
      ),
      [],
    );
    assert.deepEqual(transformer.finish(), []);
  });

  it('throws malformed_response for data that is not JSON or a delta without an index', () => {
    const transformer = createAnthropicStreamTransformer(context);
    assert.throws(
      () => transformer.push({ event: 'content_block_delta', data: '{"type":"content_block_delta",' }),
      (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'malformed_response',
    );
    assert.throws(
      () =>
        transformer.push(event({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' } })),
      (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'malformed_response',
    );
  });

  it('skips unknown events and delta types, and takes a missing type from the event name', () => {
    const chunks = run([
      messageStart,
      event({ type: 'ping' }),
      {
        event: 'content_block_start',
        data: JSON.stringify({ index: 0, content_block: { type: 'text', text: '' } }),
      },
      event({ type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation: {} } }),
      event({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: 'Hi', extra: true },
      }),
      event({ type: 'an_event_from_the_future', index: 0 }),
      event({
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 2 },
      }),
      event({ type: 'message_stop' }),
    ]);
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), 'Hi');
    assert.equal(chunks.at(-1)?.usage?.completion_tokens, 2);
  });

  it('rejects an event field of the wrong type with malformed_response naming the field', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 3 } }, /delta\.text/],
      [
        { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', name: 'f' } },
        /content_block\.id/,
      ],
      [{ type: 'message_delta', delta: { stop_reason: 1 } }, /delta\.stop_reason/],
      [{ type: 'message_delta', usage: { output_tokens: '2' } }, /usage\.output_tokens/],
    ];
    for (const [data, message] of cases) {
      const transformer = createAnthropicStreamTransformer(context);
      transformer.push(messageStart);
      assert.throws(
        () => transformer.push(event(data)),
        (error: unknown) =>
          ProviderError.isProviderError(error) &&
          error.kind === 'malformed_response' &&
          message.test(error.message),
        JSON.stringify(data),
      );
    }
  });
});
