import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSimServer, type SimServer } from '../../src/providers/sim/index.ts';
import { openAiClientFor, startTestStack, type TestStack } from '../support/start-test-stack.ts';

// Provider errors as the official openai SDK sees them through the gateway: the upstream's own
// code and param kept (issue 9, point 14) and no credential the upstream echoed (point 19).
// The deployments use the per-provider `options` shape.

let sim: SimServer;
let stack: TestStack;
let client: OpenAI;

before(async () => {
  sim = await startSimServer({ host: '127.0.0.1', port: 0, seed: 1 });
  const deployment = (id: string, wireFormat: string, fields: Record<string, unknown>) => ({
    id,
    provider: 'sim',
    model: 'gpt-4o-mini',
    baseUrl: wireFormat === 'gemini' ? `${sim.url}/v1beta` : `${sim.url}/v1`,
    apiKey: 'sim-key',
    options: { wireFormat },
    retry: { maxAttempts: 1 },
    ...fields,
  });
  stack = await startTestStack({
    sim,
    extraConfig: {
      deployments: [
        deployment('sim-openai-long-prompt', 'openai', { headers: { 'x-sim-fault': 'context-length' } }),
        // The sim refuses keys starting with "invalid" and, like OpenAI, echoes the key masked.
        deployment('sim-openai-bad-key', 'openai', { apiKey: 'invalid-sk-proj-Zx81ab9Qw2Lm7Tt4uP1234' }),
        deployment('sim-anthropic-long-prompt', 'anthropic', {
          headers: { 'x-sim-fault': 'context-length' },
        }),
      ],
      modelGroups: [
        { name: 'long-prompt', deployments: ['sim-openai-long-prompt'] },
        { name: 'bad-key', deployments: ['sim-openai-bad-key'] },
        { name: 'claude-long-prompt', deployments: ['sim-anthropic-long-prompt'] },
      ],
    },
  });
  client = openAiClientFor(stack);
});

after(async () => {
  await stack.close();
  await sim.close();
});

async function apiErrorOf(model: string): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] });
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return error;
  }
  assert.fail(`expected ${model} to fail`);
}

describe('provider errors through the gateway', () => {
  test("OpenAI's own code and param reach the SDK: err.code === 'context_length_exceeded', err.param === 'messages'", async () => {
    const error = await apiErrorOf('long-prompt');
    assert.equal(error.status, 400);
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.param, 'messages');
    assert.equal(
      (error.error as { pipewright_code?: unknown }).pipewright_code,
      'provider.context_length_exceeded',
    );
    assert.match(error.message, /maximum context length/);
  });

  test('an upstream that names no code (Anthropic) gives the stable code', async () => {
    const error = await apiErrorOf('claude-long-prompt');
    assert.equal(error.status, 400);
    assert.equal(error.code, 'provider.context_length_exceeded');
    assert.match(error.message, /prompt is too long/);
  });

  test('the provider message arrives without the key it echoed', async () => {
    const error = await apiErrorOf('bad-key');
    assert.equal(error.status, 401);
    assert.equal(error.code, 'invalid_api_key');
    assert.match(error.message, /Incorrect API key provided: \[redacted\]\./);
    assert.doesNotMatch(error.message, /1234|\*\*\*|inv/);
  });
});
