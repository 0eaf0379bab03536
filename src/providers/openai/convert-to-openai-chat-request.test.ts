import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatRequest } from '../../spec/index.ts';
import type { Deployment } from '../types.ts';
import { convertToOpenAIChatRequest } from './convert-to-openai-chat-request.ts';

const deployment: Deployment = {
  id: 'd',
  provider: 'openai',
  model: 'gpt-4o-mini-2024-07-18',
  baseUrl: 'https://api.openai.com/v1',
};
const request: ChatRequest = {
  model: 'fast',
  messages: [{ role: 'user', content: 'Hi' }],
  temperature: 0.2,
  max_tokens: 10,
  seed: 7,
};
const full = { stream: false, includeStreamUsage: true, renameMaxTokensForReasoningModels: true };

describe('convertToOpenAIChatRequest', () => {
  it('passes the request through with the upstream model name', () => {
    const body = convertToOpenAIChatRequest(request, deployment, full);
    assert.deepEqual(body, {
      model: 'gpt-4o-mini-2024-07-18',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.2,
      max_tokens: 10,
      seed: 7,
    });
  });

  it('always asks for usage when streaming, keeping other stream options', () => {
    const body = convertToOpenAIChatRequest(
      { ...request, stream_options: { include_usage: false } },
      deployment,
      { ...full, stream: true },
    );
    assert.equal(body['stream'], true);
    assert.deepEqual(body['stream_options'], { include_usage: true });
  });

  it('drops stream and stream_options on a non-streamed call (OpenAI rejects stream_options alone)', () => {
    const body = convertToOpenAIChatRequest(
      { ...request, stream: true, stream_options: { include_usage: true } },
      deployment,
      full,
    );
    assert.equal('stream' in body, false);
    assert.equal('stream_options' in body, false);
  });

  it('omits stream_options for servers that reject it', () => {
    const body = convertToOpenAIChatRequest(request, deployment, {
      ...full,
      stream: true,
      includeStreamUsage: false,
    });
    assert.equal(body['stream'], true);
    assert.equal('stream_options' in body, false);
  });

  it('renames max_tokens for OpenAI reasoning models only', () => {
    const reasoning = convertToOpenAIChatRequest(request, { ...deployment, model: 'o3-mini' }, full);
    assert.equal(reasoning['max_completion_tokens'], 10);
    assert.equal('max_tokens' in reasoning, false);
    const other = convertToOpenAIChatRequest(
      request,
      { ...deployment, model: 'o3-mini' },
      { ...full, renameMaxTokensForReasoningModels: false },
    );
    assert.equal(other['max_tokens'], 10);
  });

  it('does not mutate the canonical request', () => {
    const copy = structuredClone(request);
    convertToOpenAIChatRequest(request, deployment, { ...full, stream: true });
    assert.deepEqual(request, copy);
  });
});
