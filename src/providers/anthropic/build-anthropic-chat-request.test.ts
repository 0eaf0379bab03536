import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../../core/index.ts';
import type { Deployment } from '../types.ts';
import { buildAnthropicChatRequest } from './build-anthropic-chat-request.ts';

const deployment: Deployment = {
  id: 'claude-eu',
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  baseUrl: 'https://api.anthropic.com/v1',
  apiKey: 'sk-ant-test',
};
const messages = [{ role: 'user' as const, content: 'Hi' }];

describe('buildAnthropicChatRequest', () => {
  it('posts to {baseUrl}/messages with the key, the version and a JSON content type', () => {
    const spec = buildAnthropicChatRequest({ model: 'claude', messages }, deployment, { stream: false });
    assert.equal(spec.method, 'POST');
    assert.equal(spec.url, 'https://api.anthropic.com/v1/messages');
    assert.deepEqual(spec.headers, {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'sk-ant-test',
    });
    assert.deepEqual(spec.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });
  });

  it('uses the deployment api version and extra headers, and marks streams', () => {
    const spec = buildAnthropicChatRequest(
      { model: 'claude', messages },
      { ...deployment, options: { version: '2024-01-01' }, headers: { 'anthropic-beta': 'x' } },
      { stream: true },
    );
    assert.equal(spec.headers['anthropic-version'], '2024-01-01');
    assert.equal(spec.headers['anthropic-beta'], 'x');
    assert.equal(spec.headers.accept, 'text/event-stream');
    assert.equal((spec.body as { stream?: boolean }).stream, true);
  });

  it('sends the beta features of options.beta in the anthropic-beta header', () => {
    const headersFor = (beta: string | string[]) =>
      buildAnthropicChatRequest(
        { model: 'claude', messages },
        { ...deployment, options: { beta } },
        { stream: false },
      ).headers;
    assert.equal(headersFor('prompt-caching-2024-07-31')['anthropic-beta'], 'prompt-caching-2024-07-31');
    assert.equal(
      headersFor(['token-efficient-tools-2025-02-19', 'output-128k-2025-02-19'])['anthropic-beta'],
      'token-efficient-tools-2025-02-19,output-128k-2025-02-19',
    );
    assert.equal(
      buildAnthropicChatRequest({ model: 'claude', messages }, deployment, { stream: false }).headers[
        'anthropic-beta'
      ],
      undefined,
    );
  });

  it('refuses options of the wrong type with a config error naming the field', () => {
    assert.throws(
      () =>
        buildAnthropicChatRequest(
          { model: 'claude', messages },
          { ...deployment, options: { defaultMaxTokens: '4k' } },
          { stream: false },
        ),
      (error: unknown) =>
        error instanceof Error &&
        'param' in error &&
        error.param === `deployments.${deployment.id}.options.defaultMaxTokens`,
    );
  });

  it('takes max_tokens from max_completion_tokens, then max_tokens, then the deployment default', () => {
    const maxTokens = (request: object, dep: Deployment = deployment) =>
      (
        buildAnthropicChatRequest({ model: 'claude', messages, ...request }, dep, { stream: false }).body as {
          max_tokens: number;
        }
      ).max_tokens;
    assert.equal(maxTokens({ max_completion_tokens: 100, max_tokens: 200 }), 100);
    assert.equal(maxTokens({ max_tokens: 200 }), 200);
    assert.equal(maxTokens({}, { ...deployment, options: { defaultMaxTokens: 8000 } }), 8000);
  });

  it('maps sampling options, stop sequences and the user id; clamps temperature to 0..1', () => {
    const spec = buildAnthropicChatRequest(
      {
        model: 'claude',
        messages,
        temperature: 1.7,
        top_p: 0.9,
        stop: 'END',
        user: 'user-42',
        seed: 3,
        frequency_penalty: 1,
      },
      deployment,
      { stream: false },
    );
    const body = spec.body as Record<string, unknown>;
    assert.equal(body.temperature, 1);
    assert.equal(body.top_p, 0.9);
    assert.deepEqual(body.stop_sequences, ['END']);
    assert.deepEqual(body.metadata, { user_id: 'user-42' });
    assert.equal('seed' in body, false);
    assert.equal('frequency_penalty' in body, false);
  });

  it('includes tools and tool_choice', () => {
    const spec = buildAnthropicChatRequest(
      {
        model: 'claude',
        messages,
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
        tool_choice: 'required',
      },
      deployment,
      { stream: false },
    );
    const body = spec.body as Record<string, unknown>;
    assert.deepEqual(body.tools, [{ name: 'f', input_schema: { type: 'object' } }]);
    assert.deepEqual(body.tool_choice, { type: 'any' });
  });

  it('refuses n > 1 and logprobs, which Anthropic cannot honour', () => {
    assert.throws(
      () => buildAnthropicChatRequest({ model: 'claude', messages, n: 2 }, deployment, { stream: false }),
      (error: unknown) => PipewrightError.isInstance(error) && error.param === 'n',
    );
    assert.throws(
      () =>
        buildAnthropicChatRequest({ model: 'claude', messages, logprobs: true }, deployment, {
          stream: false,
        }),
      (error: unknown) => PipewrightError.isInstance(error) && error.param === 'logprobs',
    );
  });
});
