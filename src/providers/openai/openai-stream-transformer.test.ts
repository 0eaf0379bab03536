import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import type { Deployment, TransformContext } from '../types.ts';
import { createOpenAIStreamTransformer } from './openai-stream-transformer.ts';

const deployment: Deployment = {
  id: 'dep-1',
  provider: 'openai',
  model: 'gpt-4o-mini',
  baseUrl: 'https://api.openai.com/v1',
};
const context: TransformContext = { deployment, created: 1700000000, fallbackId: 'chatcmpl_fallback' };
const strict = () => createOpenAIStreamTransformer(context, { provider: 'openai', requireDoneMarker: true });
const data = (value: unknown) => ({ data: JSON.stringify(value) });

function providerError(kind: string) {
  return (error: unknown) => {
    assert.ok(ProviderError.isProviderError(error), String(error));
    assert.equal(error.kind, kind, error.message);
    assert.equal(error.deployment, 'dep-1');
    return true;
  };
}

describe('createOpenAIStreamTransformer', () => {
  it('passes chunks through, keeping the upstream model, and ends on [DONE]', () => {
    const transformer = strict();
    const [chunk] = transformer.push(
      data({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 5,
        model: 'gpt-4o-mini-2024-07-18',
        choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
        usage: null,
      }),
    );
    assert.equal(chunk?.id, 'c1');
    assert.equal(chunk?.model, 'gpt-4o-mini-2024-07-18');
    assert.equal(chunk?.created, 5);
    assert.equal(chunk?.choices[0]?.delta.content, 'Hi');
    assert.equal(transformer.done, false);
    assert.deepEqual(transformer.push({ data: '[DONE]' }), []);
    assert.equal(transformer.done, true);
    assert.deepEqual(transformer.finish(), []);
  });

  it('keeps the usage-only final chunk with empty choices', () => {
    const [chunk] = strict().push(
      data({
        id: 'c1',
        created: 5,
        model: 'm',
        choices: [],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 2,
          total_tokens: 12,
          prompt_tokens_details: { cached_tokens: 4 },
        },
      }),
    );
    assert.deepEqual(chunk?.choices, []);
    assert.deepEqual(chunk?.usage, {
      prompt_tokens: 10,
      completion_tokens: 2,
      total_tokens: 12,
      prompt_tokens_details: { cached_tokens: 4 },
    });
  });

  it("accepts vLLM's choices: null on the usage chunk", () => {
    const [chunk] = strict().push(
      data({ id: 'c1', choices: null, usage: { prompt_tokens: 3, completion_tokens: 1 } }),
    );
    assert.deepEqual(chunk?.choices, []);
    assert.equal(chunk?.usage?.total_tokens, 4);
  });

  it('fills id, created and model when the server omits them, and tool-call indexes', () => {
    const [chunk] = strict().push(
      data({
        choices: [
          {
            delta: {
              tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: { a: 1 } } }],
            },
            finish_reason: null,
          },
        ],
      }),
    );
    assert.equal(chunk?.id, 'chatcmpl_fallback');
    assert.equal(chunk?.created, 1700000000);
    assert.equal(chunk?.model, 'gpt-4o-mini');
    assert.equal(chunk?.choices[0]?.index, 0);
    assert.equal(chunk?.choices[0]?.delta.tool_calls?.[0]?.index, 0);
    assert.equal(chunk?.choices[0]?.delta.tool_calls?.[0]?.function?.arguments, '{"a":1}');
  });

  it('lifts Groq usage from x_groq', () => {
    const [chunk] = strict().push(
      data({
        id: 'c',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        x_groq: { usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } },
      }),
    );
    assert.equal(chunk?.usage?.prompt_tokens, 7);
  });

  it('drops chunks that carry nothing (Azure prompt_filter_results)', () => {
    assert.deepEqual(strict().push(data({ id: '', choices: [], prompt_filter_results: [] })), []);
    assert.deepEqual(strict().push({ data: '' }), []);
  });

  it('throws malformed_response for invalid JSON or a non-array choices', () => {
    assert.throws(() => strict().push({ data: '{"choices":[' }), providerError('malformed_response'));
    assert.throws(() => strict().push({ data: '42' }), providerError('malformed_response'));
    assert.throws(() => strict().push(data({ choices: 'x' })), providerError('malformed_response'));
    assert.throws(
      () => strict().push(data({ choices: [{ delta: { tool_calls: 'x' } }] })),
      providerError('malformed_response'),
    );
  });

  it('throws the mapped error for an error object inside the stream', () => {
    assert.throws(
      () =>
        strict().push(
          data({ error: { message: 'overloaded', type: 'server_error', code: 'server_is_overloaded' } }),
        ),
      providerError('overloaded'),
    );
    assert.throws(
      () => strict().push(data({ error: { code: '429', message: 'Rate limit exceeded' } })),
      providerError('rate_limited'),
    );
    assert.throws(
      () => strict().push({ event: 'error', data: JSON.stringify({ message: 'boom' }) }),
      providerError('server_error'),
    );
  });

  it('throws stream_cut when the body ends without [DONE]', () => {
    const transformer = strict();
    transformer.push(
      data({ id: 'c', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }] }),
    );
    assert.throws(() => transformer.finish(), providerError('stream_cut'));
  });

  it('in lenient mode, accepts an end after a finish reason but not before', () => {
    const lenient = createOpenAIStreamTransformer(context, {
      provider: 'openai-compatible',
      requireDoneMarker: false,
    });
    lenient.push(data({ choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] }));
    assert.throws(() => lenient.finish(), providerError('stream_cut'));
    const finished = createOpenAIStreamTransformer(context, {
      provider: 'openai-compatible',
      requireDoneMarker: false,
    });
    finished.push(data({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
    assert.deepEqual(finished.finish(), []);
  });

  it('ignores events after [DONE]', () => {
    const transformer = strict();
    transformer.push({ data: '[DONE]' });
    assert.deepEqual(transformer.push({ data: 'garbage' }), []);
  });

  it('maps non-standard finish reasons', () => {
    const [chunk] = strict().push(
      data({ id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'eos' }] }),
    );
    assert.equal(chunk?.choices[0]?.finish_reason, 'stop');
  });
});
