import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import type { ChatChunk } from '../../spec/index.ts';
import type { SseEvent, TransformContext } from '../types.ts';
import { createGeminiStreamTransformer } from './create-gemini-stream-transformer.ts';

const context: TransformContext = {
  deployment: {
    id: 'gemini-eu',
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  },
  created: 1_700_000_000,
  fallbackId: 'chatcmpl-fallback',
};
const meta = { modelVersion: 'gemini-2.5-flash', responseId: 'resp_9' };
const event = (data: Record<string, unknown>): SseEvent => ({ data: JSON.stringify({ ...meta, ...data }) });
const text = (value: string, extra: Record<string, unknown> = {}) => ({
  content: { role: 'model', parts: [{ text: value }] },
  index: 0,
  ...extra,
});

function run(events: SseEvent[]): ChatChunk[] {
  const transformer = createGeminiStreamTransformer(context);
  return [...events.flatMap((item) => transformer.push(item)), ...transformer.finish()];
}

describe('createGeminiStreamTransformer', () => {
  it('streams text, then a finish chunk and a usage chunk from the last usageMetadata', () => {
    const chunks = run([
      event({
        candidates: [text('There are')],
        usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 5 },
      }),
      event({
        candidates: [text(' three.')],
        usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 8 },
      }),
      event({
        candidates: [text('', { finishReason: 'STOP' })],
        usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 8, thoughtsTokenCount: 20 },
      }),
    ]);
    assert.deepEqual(
      chunks.map((chunk) => [chunk.choices[0]?.delta ?? null, chunk.choices[0]?.finish_reason ?? null]),
      [
        [{ role: 'assistant', content: 'There are' }, null],
        [{ content: ' three.' }, null],
        [{}, 'stop'],
        [null, null],
      ],
    );
    assert.ok(chunks.every((chunk) => chunk.id === 'resp_9' && chunk.model === 'gemini-2.5-flash'));
    assert.deepEqual(chunks.at(-1)?.usage, {
      prompt_tokens: 9,
      completion_tokens: 28,
      total_tokens: 37,
      completion_tokens_details: { reasoning_tokens: 20 },
    });
  });

  it('sends each function call whole, with id, name and arguments in one fragment', () => {
    const chunks = run([
      event({
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'EqUC' },
              ],
            },
            index: 0,
          },
        ],
      }),
      event({
        candidates: [
          { content: { role: 'model', parts: [{ functionCall: { name: 'get_time', args: {} } }] }, index: 0 },
        ],
      }),
      event({
        candidates: [text('', { finishReason: 'STOP' })],
        usageMetadata: { promptTokenCount: 29, candidatesTokenCount: 15 },
      }),
    ]);
    assert.deepEqual(
      chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []),
      [
        {
          index: 0,
          id: 'call_0',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        },
        { index: 1, id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '{}' } },
      ],
    );
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'tool_calls');
  });

  it('is done once every candidate has finished, and ignores later events', () => {
    const transformer = createGeminiStreamTransformer(context);
    transformer.push(event({ candidates: [text('A'), { ...text('B'), index: 1 }] }));
    transformer.push(event({ candidates: [text('', { finishReason: 'STOP' })] }));
    assert.equal(transformer.done, false);
    const last = transformer.push(
      event({ candidates: [{ ...text('', { finishReason: 'MAX_TOKENS' }), index: 1 }] }),
    );
    assert.equal(transformer.done, true);
    assert.equal(last[0]?.choices[0]?.finish_reason, 'length');
    assert.deepEqual(transformer.push(event({ candidates: [text('late')] })), []);
    assert.deepEqual(transformer.finish(), []);
  });

  it('throws stream_cut when the body ends before a finishReason', () => {
    const transformer = createGeminiStreamTransformer(context);
    transformer.push(event({ candidates: [text('Hello')] }));
    assert.throws(
      () => transformer.finish(),
      (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'stream_cut',
    );
  });

  it('throws for a malformed chunk, an error object and a blocked prompt', () => {
    const check = (item: SseEvent, kind: string) => {
      const transformer = createGeminiStreamTransformer(context);
      assert.throws(
        () => transformer.push(item),
        (error: unknown) => ProviderError.isProviderError(error) && error.kind === kind,
      );
    };
    check({ data: '{"candidates":[' }, 'malformed_response');
    check(
      { data: JSON.stringify({ error: { code: 503, status: 'UNAVAILABLE', message: 'overloaded' } }) },
      'overloaded',
    );
    check(event({ promptFeedback: { blockReason: 'SAFETY' } }), 'content_filtered');
  });

  it('rejects an event field of the wrong type with malformed_response naming the field', () => {
    const transformer = createGeminiStreamTransformer(context);
    transformer.push(event({ candidates: [text('Hi')] }));
    assert.throws(
      () => transformer.push(event({ candidates: [text('there', { finishReason: 12 })] })),
      (error: unknown) =>
        ProviderError.isProviderError(error) &&
        error.kind === 'malformed_response' &&
        /candidates\[0\]\.finishReason/.test(error.message),
    );
  });
});
