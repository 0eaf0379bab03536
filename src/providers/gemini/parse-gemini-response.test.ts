import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../core/index.ts';
import type { TransformContext } from '../types.ts';
import { parseGeminiResponse } from './parse-gemini-response.ts';

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

describe('parseGeminiResponse', () => {
  it('converts a text response with usage, id and model version', () => {
    assert.deepEqual(
      parseGeminiResponse(
        {
          candidates: [
            {
              content: { role: 'model', parts: [{ text: 'Hello' }, { text: ' there' }] },
              finishReason: 'STOP',
              index: 0,
            },
          ],
          usageMetadata: {
            promptTokenCount: 9,
            candidatesTokenCount: 3,
            thoughtsTokenCount: 4,
            totalTokenCount: 16,
          },
          modelVersion: 'gemini-2.5-flash-001',
          responseId: 'resp_1',
        },
        context,
      ),
      {
        id: 'resp_1',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gemini-2.5-flash-001',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hello there' },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: 9,
          completion_tokens: 7,
          total_tokens: 16,
          completion_tokens_details: { reasoning_tokens: 4 },
        },
      },
    );
  });

  it('gives function calls ids unique within the response and finishes with tool_calls', () => {
    const response = parseGeminiResponse(
      {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
                { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
              ],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
      },
      context,
    );
    const choice = response.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, null);
    assert.deepEqual(choice?.message.tool_calls, [
      { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
    ]);
    assert.equal(response.id, 'chatcmpl-fallback');
    assert.equal(response.model, 'gemini-2.5-flash');
  });

  it('returns one choice per candidate', () => {
    const response = parseGeminiResponse(
      {
        candidates: [
          { content: { parts: [{ text: 'A' }] }, finishReason: 'STOP', index: 0 },
          { content: { parts: [{ text: 'B' }] }, finishReason: 'MAX_TOKENS', index: 1 },
        ],
      },
      context,
    );
    assert.deepEqual(
      response.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason]),
      [
        [0, 'A', 'stop'],
        [1, 'B', 'length'],
      ],
    );
  });

  it('maps a safety stop to content_filter and a blocked prompt to a content_filtered error', () => {
    assert.equal(
      parseGeminiResponse({ candidates: [{ finishReason: 'SAFETY', index: 0 }] }, context).choices[0]
        ?.finish_reason,
      'content_filter',
    );
    assert.throws(
      () =>
        parseGeminiResponse(
          { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 9 } },
          context,
        ),
      (error: unknown) =>
        ProviderError.isProviderError(error) &&
        error.kind === 'content_filtered' &&
        error.providerCode === 'PROHIBITED_CONTENT',
    );
  });

  it('throws malformed_response for bodies that are not responses, and maps an error body', () => {
    for (const body of [null, [], { candidates: 'x' }, {}]) {
      assert.throws(
        () => parseGeminiResponse(body, context),
        (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'malformed_response',
      );
    }
    assert.throws(
      () =>
        parseGeminiResponse(
          { error: { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded.' } },
          context,
        ),
      (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'overloaded',
    );
  });

  it('tolerates unknown fields and parts, and optional fields that are missing or null', () => {
    const response = parseGeminiResponse(
      {
        candidates: [
          {
            content: {
              parts: [
                { text: 'thinking…', thought: true },
                { text: 'Hi', thoughtSignature: 'EqsF' },
                { executableCode: { language: 'PYTHON', code: 'print(1)' } },
                { functionCall: { name: 'get_time', args: null } },
              ],
            },
            safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' }],
            citationMetadata: null,
            finishReason: 'STOP',
          },
        ],
        usageMetadata: { promptTokenCount: 3, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 3 }] },
        modelVersion: null,
        createTime: '2025-01-01T00:00:00Z',
      },
      context,
    );
    assert.equal(response.choices[0]?.message.content, 'Hi');
    assert.deepEqual(response.choices[0]?.message.tool_calls, [
      { id: 'call_0', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    assert.equal(response.model, 'gemini-2.5-flash');
    assert.equal(response.usage?.prompt_tokens, 3);
  });

  it('rejects a field of the wrong type with malformed_response naming the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ candidates: [{ content: { parts: [{ text: 5 }] } }] }, /candidates\[0\]\.content\.parts\[0\]\.text/],
      [{ candidates: [{ content: { parts: 'x' } }] }, /candidates\[0\]\.content\.parts: /],
      [
        { candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] },
        /candidates\[0\]\.content\.parts\[0\]\.functionCall\.name/,
      ],
      [
        { candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: 'x' } }] } }] },
        /functionCall\.args/,
      ],
      [
        { candidates: [{ index: 0 }], usageMetadata: { promptTokenCount: '3' } },
        /usageMetadata\.promptTokenCount/,
      ],
      [{ candidates: [{ finishReason: 3 }] }, /candidates\[0\]\.finishReason/],
      [{ candidates: [{ index: 0 }], modelVersion: 7 }, /modelVersion/],
    ];
    for (const [body, message] of cases) {
      assert.throws(
        () => parseGeminiResponse(body, context),
        (error: unknown) =>
          ProviderError.isProviderError(error) &&
          error.kind === 'malformed_response' &&
          error.deployment === 'gemini-eu' &&
          message.test(error.message),
        JSON.stringify(body),
      );
    }
  });

  it('keeps the status of an error inside a 200 body as the upstream code', () => {
    assert.throws(
      () =>
        parseGeminiResponse(
          { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted' } },
          context,
        ),
      (error: unknown) =>
        ProviderError.isProviderError(error) &&
        error.kind === 'rate_limited' &&
        error.upstreamType === 'RESOURCE_EXHAUSTED' &&
        /^gemini error in a 200 response: /.test(error.message),
    );
  });
});
