import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../../core/index.ts';
import type { Deployment } from '../types.ts';
import { buildGeminiChatRequest } from './build-gemini-chat-request.ts';

const deployment: Deployment = {
  id: 'gemini-eu',
  provider: 'gemini',
  model: 'gemini-2.5-flash',
  baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  apiKey: 'AIza-test',
};
const messages = [{ role: 'user' as const, content: 'Hi' }];

describe('buildGeminiChatRequest', () => {
  it('posts generateContent with the API key header', () => {
    const spec = buildGeminiChatRequest({ model: 'flash', messages }, deployment, { stream: false });
    assert.equal(spec.method, 'POST');
    assert.equal(
      spec.url,
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    );
    assert.deepEqual(spec.headers, { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test' });
    assert.deepEqual(spec.body, { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
  });

  it('posts streamGenerateContent with alt=sse for streams and keeps a tuned-model path', () => {
    assert.equal(
      buildGeminiChatRequest({ model: 'flash', messages }, deployment, { stream: true }).url,
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    assert.equal(
      buildGeminiChatRequest(
        { model: 'flash', messages },
        { ...deployment, model: 'tunedModels/mine' },
        { stream: false },
      ).url,
      'https://generativelanguage.googleapis.com/v1beta/tunedModels/mine:generateContent',
    );
  });

  it('maps sampling options to generationConfig', () => {
    const spec = buildGeminiChatRequest(
      {
        model: 'flash',
        messages,
        temperature: 1.5,
        top_p: 0.8,
        max_completion_tokens: 100,
        max_tokens: 50,
        stop: ['END', ''],
        seed: 7,
        n: 2,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
      },
      deployment,
      { stream: false },
    );
    assert.deepEqual((spec.body as Record<string, unknown>).generationConfig, {
      temperature: 1.5,
      topP: 0.8,
      maxOutputTokens: 100,
      stopSequences: ['END'],
      seed: 7,
      candidateCount: 2,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    });
  });

  it('asks for JSON output with a cleaned, ordered response schema', () => {
    const spec = buildGeminiChatRequest(
      {
        model: 'flash',
        messages,
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'person',
            schema: {
              type: 'object',
              properties: { name: { type: 'string' }, age: { type: 'integer' } },
              required: ['name', 'age'],
              additionalProperties: false,
            },
          },
        },
      },
      deployment,
      { stream: false },
    );
    assert.deepEqual((spec.body as Record<string, unknown>).generationConfig, {
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'object',
        properties: { name: { type: 'string' }, age: { type: 'integer' } },
        propertyOrdering: ['name', 'age'],
        required: ['name', 'age'],
      },
    });
    const jsonObject = buildGeminiChatRequest(
      { model: 'flash', messages, response_format: { type: 'json_object' } },
      deployment,
      { stream: false },
    );
    assert.deepEqual((jsonObject.body as Record<string, unknown>).generationConfig, {
      responseMimeType: 'application/json',
    });
  });

  it('includes system instruction, tools and tool config', () => {
    const spec = buildGeminiChatRequest(
      {
        model: 'flash',
        messages: [{ role: 'system', content: 'Be brief.' }, ...messages],
        tools: [
          {
            type: 'function',
            function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } },
          },
        ],
        tool_choice: 'none',
      },
      deployment,
      { stream: false },
    );
    const body = spec.body as Record<string, unknown>;
    assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Be brief.' }] });
    assert.deepEqual(body.tools, [
      {
        functionDeclarations: [
          { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } },
        ],
      },
    ]);
    assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode: 'NONE' } });
  });

  it('refuses logprobs, naming the field', () => {
    assert.throws(
      () =>
        buildGeminiChatRequest({ model: 'flash', messages, logprobs: true }, deployment, { stream: false }),
      (error: unknown) => PipewrightError.isInstance(error) && error.param === 'logprobs',
    );
  });
});
